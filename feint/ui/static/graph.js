// The graph editor: validation as you type (feint's loader, on the server), the error marked at its line,
// Sample (a table of parameter sets), Preview (a background render, polled) and Save as (a new file).
"use strict";

const VALIDATE_DELAY_MS = 400;
const POLL_MS = 700;

const $ = (id) => document.getElementById(id);
const graphPath = () => document.querySelector(".graph-page").dataset.path || null;

// POST JSON; an error answer becomes an Error with the server's one line (FastAPI's own 422s included).
async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(data.detail)
      ? data.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ")
      : data.detail;
    throw new Error(data.error || detail || response.statusText);
  }
  return data;
}

function source() {
  return { text: $("source").value, path: graphPath() };
}

function numberOf(id) {
  const value = Number($(id).value);
  return Number.isFinite(value) ? Math.trunc(value) : 0;
}

// ---- the editor: gutter and error marks -------------------------------------------------------------

let problems = []; // [{line, message}] of the last validation

function lineHeight() {
  return parseFloat(getComputedStyle($("source")).lineHeight);
}

function drawGutter() {
  const lines = $("source").value.split("\n").length;
  const bad = new Map(problems.filter((p) => p.line).map((p) => [p.line, p.message]));
  const gutter = $("gutter");
  const rows = [];
  for (let i = 1; i <= lines; i++) {
    const row = el("div", { class: bad.has(i) ? "ln bad" : "ln", "data-line": i }, i);
    if (bad.has(i)) row.title = bad.get(i);
    rows.push(row);
  }
  gutter.replaceChildren(...rows, el("div", {}, "")); // room for a horizontal scrollbar
  drawMarks();
}

function drawMarks() {
  const area = $("source");
  const pad = parseFloat(getComputedStyle(area).paddingTop);
  const height = lineHeight();
  $("gutter").scrollTop = area.scrollTop;
  const bands = problems
    .filter((p) => p.line)
    .map((p) => {
      const top = pad + (p.line - 1) * height - area.scrollTop;
      return el("div", { class: "band", style: `top:${top}px`, "data-line": p.line }, el("span", {}, p.message));
    });
  $("marks").replaceChildren(...bands);
}

// Move the caret to a line and scroll it into view (the links of the error list).
function goToLine(line) {
  const area = $("source");
  const lines = area.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  area.focus();
  area.setSelectionRange(start, start + (lines[line - 1] || "").length);
  area.scrollTop = Math.max(0, (line - 5) * lineHeight());
  drawMarks();
}

function showProblems() {
  const list = problems.map((p) =>
    p.line
      ? el("p", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); goToLine(p.line); } }, `line ${p.line}`), ": " + p.message)
      : el("p", {}, p.message),
  );
  $("problems").replaceChildren(...list);
  drawGutter();
}

// ---- validation -------------------------------------------------------------------------------------

let validation = 0; // the number of the latest request: an older answer arriving late is ignored
let timer = null;

async function validate() {
  const mine = ++validation;
  const verdict = $("verdict");
  verdict.className = "verdict muted";
  verdict.textContent = "checking…";
  try {
    const result = await postJSON("/api/graph/validate", source());
    if (mine !== validation) return result;
    problems = result.ok ? [] : result.errors;
    verdict.className = result.ok ? "verdict ok" : "verdict bad";
    verdict.textContent = result.ok ? `valid: ${result.summary}` : "not valid";
    showProblems();
    return result;
  } catch (err) {
    if (mine !== validation) return null;
    problems = [{ line: null, message: err.message }];
    verdict.className = "verdict bad";
    verdict.textContent = "could not check";
    showProblems();
    return null;
  }
}

function validateSoon() {
  clearTimeout(timer);
  timer = setTimeout(validate, VALIDATE_DELAY_MS);
}

// ---- sample -----------------------------------------------------------------------------------------

async function sample(event) {
  event.preventDefault();
  $("sample-error").textContent = "";
  try {
    const body = { ...source(), n: numberOf("sample-n"), seed: numberOf("sample-seed") };
    const table = await postJSON("/api/graph/sample", body);
    const head = el("tr", {}, el("th", {}, "parameter"));
    for (let i = 0; i < table.samples; i++) head.append(el("th", {}, `#${i}`));
    const rows = table.rows.map((row) =>
      el("tr", { class: row.varies ? "varies" : "same" }, el("th", {}, row.name), ...row.values.map((v) => el("td", {}, v))),
    );
    $("samples").replaceChildren(head, ...rows);
  } catch (err) {
    $("sample-error").textContent = err.message;
    $("samples").replaceChildren();
    validate();
  }
}

// ---- preview ----------------------------------------------------------------------------------------

let job = null; // the preview being watched

function showJob(status) {
  const bar = document.querySelector(".progress");
  bar.hidden = false;
  bar.querySelector("i").style.width = `${(100 * status.finished) / status.n}%`;
  const words = { running: "rendering", cancelling: "stopping", done: "done", failed: "failed", cancelled: "cancelled" };
  $("progress-text").textContent = `${words[status.state]}: ${status.finished} of ${status.n} images · ${status.seconds} s`;
  bar.dataset.state = status.state;
  const shown = new Set([...$("previews").querySelectorAll("img")].map((img) => img.dataset.path));
  for (const path of status.images) {
    if (shown.has(path)) continue;
    const src = "/file?" + new URLSearchParams({ path });
    $("previews").append(el("figure", {}, el("a", { href: src, target: "_blank" }, el("img", { src, alt: path, "data-path": path })), el("figcaption", {}, path.split("/").pop())));
  }
  $("preview-error").textContent = status.error || "";
  const active = status.state === "running" || status.state === "cancelling";
  $("cancel").hidden = !active;
  $("preview").disabled = active;
  return active;
}

async function poll(id) {
  if (!job || job !== id) return;
  try {
    const status = await getJSON(`/api/graph/preview/${id}`);
    if (showJob(status)) setTimeout(() => poll(id), POLL_MS);
  } catch (err) {
    $("preview-error").textContent = err.message;
    $("preview").disabled = false;
  }
}

async function preview(event) {
  event.preventDefault();
  $("preview-error").textContent = "";
  $("previews").replaceChildren();
  const body = { ...source(), n: numberOf("preview-n"), size: numberOf("preview-size"), seed: numberOf("preview-seed") };
  try {
    const status = await postJSON("/api/graph/preview", body);
    job = status.id;
    if (showJob(status)) setTimeout(() => poll(status.id), POLL_MS);
  } catch (err) {
    $("preview-error").textContent = err.message;
    validate();
  }
}

async function cancel() {
  if (!job) return;
  try {
    showJob(await postJSON(`/api/graph/preview/${job}/cancel`, {}));
  } catch (err) {
    $("preview-error").textContent = err.message;
  }
}

// ---- save as ----------------------------------------------------------------------------------------

async function save(event) {
  event.preventDefault();
  const result = $("save-result");
  result.className = "";
  try {
    const saved = await postJSON("/api/graph/save", { ...source(), name: $("save-name").value });
    result.className = "ok";
    result.replaceChildren("saved: ", el("a", { href: "/graph?" + new URLSearchParams({ path: saved.path }) }, saved.path));
  } catch (err) {
    result.className = "error";
    result.textContent = err.message;
    validate();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const area = $("source");
  area.addEventListener("input", () => {
    drawGutter();
    validateSoon();
  });
  area.addEventListener("scroll", drawMarks);
  area.addEventListener("keydown", (e) => {
    if (e.key === "Tab") { // two spaces, as YAML wants; Tab would leave the editor
      e.preventDefault();
      area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
      drawGutter();
      validateSoon();
    }
  });
  $("validate").addEventListener("click", validate);
  $("sample-form").addEventListener("submit", sample);
  $("varying").addEventListener("change", (e) => $("samples").classList.toggle("varying-only", e.target.checked));
  $("samples").classList.toggle("varying-only", $("varying").checked);
  $("preview-form").addEventListener("submit", preview);
  $("cancel").addEventListener("click", cancel);
  $("save-form").addEventListener("submit", save);
  drawGutter();
  validate();
});
