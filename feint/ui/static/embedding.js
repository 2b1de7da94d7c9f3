// The embedding map: asks /api/embedding for 2-D points, draws them as an SVG scatter coloured by source or
// class, and shows the images of the points selected (a dragged rectangle, or a click).
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94"];
const HEIGHT = 560;
const PAD = 18;
const SHOWN = 120; // thumbnails shown of a selection
const map = { data: null, circles: [], selected: [] };

function svgNode(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function colourOf(point) {
  const by = document.getElementById("colour").value;
  const index = by === "class" ? point.c : point.s;
  return index < 0 ? "#9e9e9e" : PALETTE[index % PALETTE.length];
}

function formQuery(form) {
  const q = new URLSearchParams();
  const study = form.elements.study.value;
  if (study) q.set("study", study);
  for (const option of form.elements.dataset.selectedOptions) q.append("dataset", option.value);
  q.set("backbone", form.elements.backbone.value);
  q.set("size", form.elements.size.value);
  q.set("method", form.elements.method.value);
  return q;
}

function fillForm(form, q) {
  if (q.has("study")) form.elements.study.value = q.get("study");
  const datasets = new Set(q.getAll("dataset"));
  for (const option of form.elements.dataset.options) option.selected = datasets.has(option.value);
  for (const name of ["backbone", "size", "method"]) if (q.has(name)) form.elements[name].value = q.get(name);
  if (q.has("colour")) document.getElementById("colour").value = q.get("colour");
}

function summary(data) {
  const drawn = data.points.length;
  const total = data.sources.reduce((n, s) => n + s.images, 0);
  const uncached = data.sources.reduce((n, s) => n + s.uncached, 0);
  const outside = data.sources.reduce((n, s) => n + s.outside, 0);
  const thinned = data.sources.reduce((n, s) => n + s.thinned, 0);
  const parts = [`${drawn} of ${total} images drawn (${data.method === "tsne" ? "t-SNE" : "PCA"} of ` +
    `${data.features} features)`];
  parts.push(`${uncached} lacked cached features`);
  if (outside) parts.push(`${outside} lie outside the folders given to feint ui`);
  if (thinned) parts.push(`${thinned} left out to keep the map quick (evenly thinned)`);
  return parts.join(" · ");
}

function drawLegend() {
  const legend = document.getElementById("legend");
  const data = map.data;
  const byClass = document.getElementById("colour").value === "class";
  const names = byClass ? data.classes : data.sources.map((s) => s.name);
  const count = new Array(names.length).fill(0);
  for (const p of data.points) if ((byClass ? p.c : p.s) >= 0) count[byClass ? p.c : p.s] += 1;
  legend.replaceChildren(...names.map((name, i) => {
    const key = el("i", {});
    key.style.background = PALETTE[i % PALETTE.length];
    const src = byClass ? null : data.sources[i];
    const note = src && src.uncached ? `, ${src.uncached} without cached features` : "";
    return el("span", { class: "key", "data-source": byClass ? "" : src.kind }, key, `${name} (${count[i]}${note})`);
  }));
}

function recolour() {
  for (const [i, c] of map.circles.entries()) c.setAttribute("fill", colourOf(map.data.points[i]));
  drawLegend();
}

function drawMap(data) {
  map.data = data;
  const svg = document.getElementById("map");
  document.getElementById("map-card").hidden = false;
  const width = svg.clientWidth || 1000;
  svg.setAttribute("viewBox", `0 0 ${width} ${HEIGHT}`);
  const xs = data.points.map((p) => p.x);
  const ys = data.points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (width - 2 * PAD) / Math.max(x1 - x0, 1e-9);
  const sy = (HEIGHT - 2 * PAD) / Math.max(y1 - y0, 1e-9);
  const kinds = data.sources.map((s) => s.kind);
  map.circles = data.points.map((p) => {
    p.px = PAD + (p.x - x0) * sx;
    p.py = HEIGHT - PAD - (p.y - y0) * sy;
    return svgNode("circle", { cx: p.px.toFixed(1), cy: p.py.toFixed(1), r: 4.5, class: kinds[p.s] });
  });
  svg.replaceChildren(...map.circles);
  document.getElementById("summary").textContent = summary(data);
  recolour();
  select([]);
}

function svgPoint(svg, event) {
  const point = svg.createSVGPoint();
  point.x = event.clientX;
  point.y = event.clientY;
  return point.matrixTransform(svg.getScreenCTM().inverse());
}

function select(indices) {
  for (const i of map.selected) map.circles[i].classList.remove("on");
  map.selected = indices;
  for (const i of indices) map.circles[i].classList.add("on");
  document.getElementById("map").classList.toggle("picking", indices.length > 0);
  const section = document.getElementById("selection");
  section.hidden = indices.length === 0;
  const shown = indices.slice(0, SHOWN);
  document.getElementById("selection-title").textContent = `${indices.length} image${indices.length === 1 ? "" : "s"} selected` +
    (indices.length > SHOWN ? ` (the first ${SHOWN} shown)` : "");
  document.getElementById("selected").replaceChildren(...shown.map((i) => {
    const p = map.data.points[i];
    const label = p.c >= 0 ? map.data.classes[p.c] : "no class";
    return el("figure", { title: p.file },
      el("img", { src: thumbURL(p.file, 192), alt: p.file, loading: "lazy" }),
      el("figcaption", {}, `${label} · ${map.data.sources[p.s].name}`));
  }));
}

function enableSelection(svg) {
  let start = null;
  let brush = null;
  svg.addEventListener("pointerdown", (event) => {
    if (!map.data) return;
    start = svgPoint(svg, event);
    brush = svgNode("rect", { class: "brush", x: start.x, y: start.y, width: 0, height: 0 });
    svg.append(brush);
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (!start) return;
    const at = svgPoint(svg, event);
    brush.setAttribute("x", Math.min(start.x, at.x));
    brush.setAttribute("y", Math.min(start.y, at.y));
    brush.setAttribute("width", Math.abs(at.x - start.x));
    brush.setAttribute("height", Math.abs(at.y - start.y));
  });
  svg.addEventListener("pointerup", (event) => {
    if (!start) return;
    const at = svgPoint(svg, event);
    brush.remove();
    const [xa, xb] = [Math.min(start.x, at.x), Math.max(start.x, at.x)];
    const [ya, yb] = [Math.min(start.y, at.y), Math.max(start.y, at.y)];
    const points = map.data.points;
    let chosen;
    if (xb - xa < 4 && yb - ya < 4) { // a click: the nearest point within 8 px
      let best = -1;
      let bestDistance = 64;
      for (const [i, p] of points.entries()) {
        const d = (p.px - at.x) ** 2 + (p.py - at.y) ** 2;
        if (d < bestDistance) [best, bestDistance] = [i, d];
      }
      chosen = best >= 0 ? [best] : [];
    } else {
      chosen = [...points.keys()].filter((i) => points[i].px >= xa && points[i].px <= xb &&
        points[i].py >= ya && points[i].py <= yb);
    }
    start = null;
    select(chosen);
  });
}

async function draw(form) {
  const status = document.getElementById("status");
  const q = formQuery(form);
  const colour = document.getElementById("colour").value;
  history.replaceState(null, "", "/embedding?" + q.toString() + (colour === "class" ? "&colour=class" : ""));
  status.className = "muted";
  status.textContent = "reading cached features…";
  try {
    const data = await getJSON("/api/embedding?" + q.toString());
    status.textContent = "";
    drawMap(data);
  } catch (err) {
    status.className = "error";
    status.textContent = err.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("embedding-form");
  const q = new URLSearchParams(window.location.search);
  fillForm(form, q);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    draw(form);
  });
  document.getElementById("colour").addEventListener("change", () => {
    if (!map.data) return;
    recolour();
    const url = new URL(window.location.href);
    url.searchParams.set("colour", document.getElementById("colour").value);
    history.replaceState(null, "", url.toString());
  });
  enableSelection(document.getElementById("map"));
  if (q.has("study") || q.has("dataset")) draw(form);
});
