// The Datasets page: a filtered, paged grid with boxes and masks drawn, an image's detail, a histogram of
// any field per class and a few images per class beside another dataset. Everything the view depends on
// lives in the URL (filters as f.<field>=..., the page, the tab, the plotted field, the dataset compared),
// so a reload or a shared link shows the same view.
"use strict";

(() => {
  const infoNode = document.getElementById("dataset-info");
  if (!infoNode) return; // the page is showing an error instead
  const info = JSON.parse(infoNode.textContent);
  const fields = new Map(info.fields.map((f) => [f.name, f]));
  const PINNED = ["class", "split", "source"].filter((name) => fields.has(name));
  const SVG_NS = "http://www.w3.org/2000/svg";
  const OUTSIDE = "outside the folders given to feint ui";

  const state = readURL();
  const open = new Set([...PINNED, ...state.filters.keys()]); // filters with a control shown
  let items = []; // the grid page shown, for the detail's previous/next
  let timer = null;
  let suggestion = ""; // the dataset shown beside this one until the user picks one

  function readURL() {
    const q = new URLSearchParams(location.search);
    const filters = new Map();
    for (const [key, value] of q) {
      if (key.startsWith("f.") && fields.has(key.slice(2))) {
        const name = key.slice(2);
        filters.set(name, [...(filters.get(name) || []), value]);
      }
    }
    const detail = q.get("detail");
    return {
      filters,
      page: Math.max(1, Number(q.get("page")) || 1),
      view: ["grid", "hist", "compare"].includes(q.get("view")) ? q.get("view") : "grid",
      hist: fields.has(q.get("hist")) ? q.get("hist") : defaultHistField(),
      compare: q.get("compare") || "",
      detail: detail === null ? null : Number(detail),
    };
  }

  function defaultHistField() {
    const ranged = info.fields.find((f) => f.kind === "range");
    return (ranged || info.fields[0] || { name: "" }).name;
  }

  // path and filters: what every request of this page is about.
  function filterQuery() {
    const q = new URLSearchParams({ path: info.path });
    for (const [name, values] of state.filters) for (const v of values) q.append("f." + name, v);
    return q;
  }

  function writeURL() {
    const q = filterQuery();
    if (state.page > 1) q.set("page", String(state.page));
    if (state.view !== "grid") q.set("view", state.view);
    if (state.view === "hist" && state.hist) q.set("hist", state.hist);
    if (state.compare) q.set("compare", state.compare);
    if (state.detail !== null) q.set("detail", String(state.detail));
    history.replaceState(null, "", "/dataset?" + q.toString());
  }

  // Answers can arrive out of order (a slider dragged, a field changed twice): only the latest request of
  // each kind may draw. `current = ticket("grid")` before fetching; draw only while `current()` holds.
  const issued = {};
  function ticket(kind) {
    const mine = (issued[kind] = (issued[kind] || 0) + 1);
    return () => issued[kind] === mine;
  }

  function showError(container, err) {
    container.replaceChildren(el("p", { class: "error" }, err.message || String(err)));
  }

  // ---- filters ----

  function setFilter(name, values) {
    if (values.length) state.filters.set(name, values);
    else state.filters.delete(name);
    state.page = 1;
    writeURL();
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  }

  function renderFilters() {
    const box = document.getElementById("filters");
    box.replaceChildren(...[...open].filter((n) => fields.has(n)).map(filterControl));
    const add = document.getElementById("add-filter");
    add.replaceChildren(el("option", { value: "" }, "field…"));
    for (const f of info.fields) if (!open.has(f.name)) add.append(el("option", { value: f.name }, f.name));
  }

  function filterControl(name) {
    const f = fields.get(name);
    const head = el("div", { class: "ds-filter-head" }, el("b", {}, name));
    if (!PINNED.includes(name)) {
      head.append(
        el("button", { type: "button", class: "small", "aria-label": "remove filter " + name, onclick: () => {
          open.delete(name);
          setFilter(name, []);
          renderFilters();
        } }, "×"),
      );
    }
    const body = f.kind === "range" ? rangeControl(f) : choiceControl(f);
    return el("div", { class: "ds-filter", "data-field": name }, head, body);
  }

  function choiceControl(f) {
    const chosen = new Set(state.filters.get(f.name) || []);
    const list = el("div", { class: "ds-choices" });
    f.values.forEach((value, k) => {
      const box = el("input", { type: "checkbox", value });
      box.checked = chosen.has(value);
      box.addEventListener("change", () => {
        const picked = [...list.querySelectorAll("input:checked")].map((b) => b.value);
        setFilter(f.name, picked);
      });
      const label = el("label", { class: "ds-choice" }, box);
      if (f.name === "class") label.append(swatch(value));
      label.append(value, el("span", { class: "muted" }, " " + f.counts[k]));
      list.append(label);
    });
    return list;
  }

  function rangeControl(f) {
    const step = f.integer ? 1 : (f.high - f.low) / 200;
    const [lo, hi] = currentRange(f);
    const attrs = { type: "range", min: f.low, max: f.high, step };
    const low = el("input", { ...attrs, "aria-label": f.name + " from" });
    const high = el("input", { ...attrs, "aria-label": f.name + " to" });
    low.value = lo;
    high.value = hi;
    const shown = el("span", { class: "ds-range-values" });
    const show = () => { shown.textContent = `${fmt(Number(low.value))} – ${fmt(Number(high.value))}`; };
    const changed = (moved) => {
      if (Number(low.value) > Number(high.value)) (moved === low ? high : low).value = moved.value;
      show();
      // A slider's value is rounded to its step and to fewer digits than the data: at an end it stands for
      // the field's own extreme, so the images at the extreme stay in.
      const lo = Number(low.value) <= f.low + step / 2 ? f.low : Number(low.value);
      const hi = Number(high.value) >= f.high - step / 2 ? f.high : Number(high.value);
      setFilter(f.name, lo <= f.low && hi >= f.high ? [] : [`${lo}..${hi}`]);
    };
    low.addEventListener("input", () => changed(low));
    high.addEventListener("input", () => changed(high));
    show();
    return el("div", { class: "ds-range" }, low, high, shown);
  }

  function currentRange(f) {
    const given = (state.filters.get(f.name) || [])[0];
    if (!given) return [f.low, f.high];
    const [lo, hi] = given.split("..").map(Number);
    return [Number.isFinite(lo) ? lo : f.low, Number.isFinite(hi) ? hi : f.high];
  }

  function fmt(x) {
    if (Number.isInteger(x)) return String(x);
    return Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3);
  }

  function swatch(name) {
    const k = info.classes.indexOf(name);
    return el("i", { class: "ds-swatch", style: `background:${k >= 0 ? info.colours[k] : "#9e9e9e"}` });
  }

  // ---- images with their labels drawn ----

  function svgNode(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  // An image with its boxes (and masks) over it; `src` the picture, `labels` whether to write class names.
  function drawn(item, src, path, labels) {
    if (!item.ok || !item.w || !item.h) return el("div", { class: "ds-outside" }, OUTSIDE);
    const svg = svgNode("svg", { viewBox: `0 0 ${item.w} ${item.h}`, role: "img", "aria-label": item.class || "image" });
    svg.append(svgNode("image", { href: src, width: item.w, height: item.h }));
    if (item.masks) {
      const q = new URLSearchParams({ path, i: String(item.i), size: labels ? "1024" : "384" });
      svg.append(svgNode("image", { href: "/api/dataset/masks?" + q, width: item.w, height: item.h, class: "ds-mask" }));
    }
    for (const [x0, y0, x1, y1, c] of item.boxes) {
      const colour = info.colours[c] || "#ffffff";
      const rect = svgNode("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, stroke: colour, class: "ds-box" });
      const title = svgNode("title", {});
      title.textContent = info.classes[c] || "";
      rect.append(title);
      svg.append(rect);
      if (labels) {
        const text = svgNode("text", { x: x0 + 2, y: y0 + 2, fill: colour, class: "ds-box-label", "font-size": Math.max(item.w, item.h) / 40 });
        text.textContent = info.classes[c] || "";
        svg.append(text);
      }
    }
    return svg;
  }

  function figure(item, path, onclick) {
    const caption = el("figcaption", { title: item.file });
    if (item.class) caption.append(swatch(item.class), item.class);
    else caption.append(el("span", { class: "muted" }, "no class"));
    const node = el("figure", { "data-i": String(item.i) }, drawn(item, thumbURL(item.file, 192), path, false), caption);
    if (onclick) node.addEventListener("click", onclick);
    return node;
  }

  // ---- the grid ----

  async function loadGrid() {
    const grid = document.getElementById("grid");
    const q = filterQuery();
    q.set("page", String(state.page));
    const current = ticket("grid");
    try {
      const data = await getJSON("/api/dataset/images?" + q);
      if (!current()) return;
      state.page = data.page;
      items = data.items;
      document.getElementById("count").textContent = `${data.matched} of ${data.total} images`;
      grid.replaceChildren(...items.map((item) => figure(item, info.path, () => openDetail(item.i))));
      if (!items.length) grid.append(el("p", { class: "muted" }, "no image matches the filters"));
      renderPagers(data);
      writeURL();
    } catch (err) {
      if (current()) showError(grid, err);
    }
  }

  function renderPagers(data) {
    for (const pager of document.querySelectorAll("[data-pager]")) {
      const go = (page) => { state.page = page; loadGrid(); };
      const prev = el("button", { type: "button", "data-go": "prev", onclick: () => go(data.page - 1) }, "‹ prev");
      const next = el("button", { type: "button", "data-go": "next", onclick: () => go(data.page + 1) }, "next ›");
      prev.disabled = data.page <= 1;
      next.disabled = data.page >= data.pages;
      const number = el("input", { type: "number", min: 1, max: data.pages, value: data.page, "aria-label": "page" });
      number.addEventListener("change", () => go(Math.max(1, Math.min(data.pages, Number(number.value) || 1))));
      pager.replaceChildren(prev, el("span", {}, "page "), number, el("span", { class: "muted" }, ` of ${data.pages}`), next);
    }
  }

  // ---- one image ----

  async function openDetail(i) {
    state.detail = i;
    writeURL();
    const box = document.getElementById("detail");
    const body = box.querySelector(".ds-detail-body");
    box.hidden = false;
    body.replaceChildren(el("p", { class: "muted" }, "loading…"));
    try {
      const item = await getJSON("/api/dataset/image?" + new URLSearchParams({ path: info.path, i: String(i) }));
      if (state.detail !== i) return;
      body.replaceChildren(
        el("div", { class: "ds-detail-image" }, drawn(item, "/file?" + new URLSearchParams({ path: item.file }), info.path, true)),
        detailFacts(item),
      );
    } catch (err) {
      showError(body, err);
    }
  }

  function detailFacts(item) {
    const facts = el("table", { class: "data ds-facts" });
    const row = (name, value) => facts.append(el("tr", {}, el("th", {}, name), el("td", {}, value)));
    const cls = el("span", {});
    if (item.class) cls.append(swatch(item.class), item.class);
    row("class", cls);
    row("file", el("code", {}, item.file));
    row("group", item.group ?? "—");
    row("split", item.split ?? "—");
    row("source", item.source ?? "—");
    row("size", `${item.w} × ${item.h}`);
    const boxes = el("ul", { class: "ds-box-list" });
    for (const [x0, y0, x1, y1, c] of item.boxes) {
      boxes.append(el("li", {}, swatch(info.classes[c]), info.classes[c], el("span", { class: "muted" }, ` [${x0}, ${y0}, ${x1}, ${y1}]`)));
    }
    row(`boxes (${item.boxes.length})`, item.boxes.length ? boxes : "none");
    const params = el("table", { class: "data ds-params" });
    for (const [name, value] of item.fields) {
      params.append(el("tr", {}, el("th", {}, name), el("td", {}, shownValue(value))));
    }
    return el("div", { class: "ds-detail-facts" }, facts, el("h2", {}, `parameters (${item.fields.length})`), params);
  }

  function shownValue(value) {
    if (typeof value === "number" && !Number.isInteger(value)) return String(Number(value.toPrecision(6)));
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  function closeDetail() {
    state.detail = null;
    document.getElementById("detail").hidden = true;
    writeURL();
  }

  function stepDetail(step) {
    const k = items.findIndex((item) => item.i === state.detail);
    const next = items[k + step];
    if (k >= 0 && next) openDetail(next.i);
  }

  // ---- histogram ----

  async function loadHistogram() {
    const plot = document.getElementById("hist-plot");
    if (!state.hist) {
      plot.replaceChildren(el("p", { class: "muted" }, "no field to plot"));
      return;
    }
    const q = filterQuery();
    q.set("field", state.hist);
    plot.replaceChildren(el("p", { class: "muted" }, "drawing…"));
    const current = ticket("hist");
    try {
      const response = await fetch("/api/dataset/histogram?" + q);
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new Error(body.error || body.detail || response.statusText);
      }
      const svg = await response.text(); // drawn by matplotlib on the server
      if (current()) plot.innerHTML = svg;
    } catch (err) {
      if (current()) showError(plot, err);
    }
  }

  // ---- beside another dataset ----

  async function fillCompareChoices() {
    const select = document.getElementById("compare-with");
    try {
      const entries = (await getJSON("/api/catalog")).filter((e) => e.kind === "dataset" && e.path !== info.path);
      for (const e of entries) select.append(el("option", { value: e.path }, `${e.name} (${e.detail})`));
      // Suggested: the first dataset of another format (renders beside photos, or photos beside renders).
      suggestion = (entries.find((e) => e.detail !== info.format) || entries[0] || { path: "" }).path;
      select.value = state.compare;
    } catch (err) {
      showError(document.getElementById("compare"), err);
    }
  }

  async function loadCompare() {
    const box = document.getElementById("compare");
    if (!state.compare && suggestion) {
      state.compare = suggestion;
      document.getElementById("compare-with").value = suggestion;
      writeURL();
    }
    if (!state.compare) {
      box.replaceChildren(el("p", { class: "muted" }, "choose a dataset to show beside this one"));
      return;
    }
    const q = filterQuery();
    q.set("other", state.compare);
    box.replaceChildren(el("p", { class: "muted" }, "loading…"));
    const current = ticket("compare");
    try {
      const data = await getJSON("/api/dataset/compare?" + q);
      if (!current()) return;
      if (!data.classes.length) {
        box.replaceChildren(el("p", { class: "muted" }, `no class has images in both ${data.a.name} and ${data.b.name}`));
        return;
      }
      box.replaceChildren(...data.classes.map((row) => compareRow(row, data)));
    } catch (err) {
      if (current()) showError(box, err);
    }
  }

  function compareRow(row, data) {
    const strip = (label, name, list, path, link) => el(
      "div", { class: "ds-strip" },
      el("div", { class: "ds-strip-label" }, el("b", {}, label), el("span", { class: "muted" }, name)),
      el("div", { class: "ds-strip-images" }, ...list.map((item) => figure(item, path, link(item)))),
    );
    const otherLink = (item) => () => {
      location.href = "/dataset?" + new URLSearchParams({ path: data.b.path, detail: String(item.i) });
    };
    return el(
      "section", { class: "ds-compare-class", "data-class": row.class },
      el("h2", {}, swatch(row.class), row.class),
      strip(data.a.kind, data.a.name, row.a, info.path, (item) => () => openDetail(item.i)),
      strip(data.b.kind, data.b.name, row.b, data.b.path, otherLink),
    );
  }

  // ---- tabs and wiring ----

  function showView(view) {
    state.view = view;
    for (const button of document.querySelectorAll("[data-view]")) {
      button.classList.toggle("on", button.dataset.view === view);
      button.setAttribute("aria-selected", String(button.dataset.view === view));
    }
    for (const name of ["grid", "hist", "compare"]) document.getElementById("view-" + name).hidden = name !== view;
    writeURL();
    refresh();
  }

  function refresh() {
    if (state.view === "grid") loadGrid();
    else {
      updateCount();
      if (state.view === "hist") loadHistogram();
      else loadCompare();
    }
  }

  // The count of images the filters keep, also when the grid is not the tab shown.
  async function updateCount() {
    const q = filterQuery();
    q.set("per", "1");
    const current = ticket("count");
    try {
      const data = await getJSON("/api/dataset/images?" + q);
      if (current()) document.getElementById("count").textContent = `${data.matched} of ${data.total} images`;
    } catch (err) {
      if (current()) document.getElementById("count").textContent = err.message;
    }
  }

  function wire() {
    for (const button of document.querySelectorAll("[data-view]")) {
      button.addEventListener("click", () => showView(button.dataset.view));
    }
    document.getElementById("add-filter").addEventListener("change", (event) => {
      const name = event.target.value;
      if (!name) return;
      open.add(name);
      renderFilters();
    });
    document.getElementById("clear").addEventListener("click", () => {
      state.filters.clear();
      for (const name of [...open]) if (!PINNED.includes(name)) open.delete(name);
      state.page = 1;
      renderFilters();
      writeURL();
      refresh();
    });
    const histField = document.getElementById("hist-field");
    for (const f of info.fields) histField.append(el("option", { value: f.name }, f.name));
    histField.value = state.hist;
    histField.addEventListener("change", () => { state.hist = histField.value; writeURL(); loadHistogram(); });
    document.getElementById("compare-with").addEventListener("change", (event) => {
      state.compare = event.target.value;
      writeURL();
      loadCompare();
    });
    for (const toggle of document.querySelectorAll("[data-toggle]")) {
      toggle.addEventListener("change", () => document.body.classList.toggle(toggle.dataset.toggle, !toggle.checked));
    }
    const detail = document.getElementById("detail");
    document.getElementById("detail-close").addEventListener("click", closeDetail);
    detail.addEventListener("click", (event) => { if (event.target === detail) closeDetail(); });
    for (const button of detail.querySelectorAll("[data-step]")) {
      button.addEventListener("click", () => stepDetail(Number(button.dataset.step)));
    }
    document.addEventListener("keydown", (event) => {
      if (detail.hidden) return;
      if (event.key === "Escape") closeDetail();
      else if (event.key === "ArrowRight") stepDetail(1);
      else if (event.key === "ArrowLeft") stepDetail(-1);
    });
  }

  wire();
  renderFilters();
  fillCompareChoices().then(() => showView(state.view));
  if (state.detail !== null) openDetail(state.detail);
})();
