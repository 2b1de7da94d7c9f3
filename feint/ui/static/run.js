// The Runs pages: detector boxes drawn over their images with a score slider, and the config diff toggle.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgNode(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

// A box with its label as a tooltip.
function boxRect(attrs, label) {
  const rect = svgNode("rect", attrs);
  const title = svgNode("title", {});
  title.textContent = label;
  rect.append(title);
  return rect;
}

// One image with its boxes: ground truth dashed, predictions solid (each keeps its score for the slider).
function boxFigure(image) {
  const caption = el("figcaption", { title: image.path }, image.path.split("/").pop());
  if (!image.allowed || !image.width || !image.height) {
    return el("figure", {}, el("div", { class: "outside" }, "outside the folders given to feint ui"), caption);
  }
  const svg = svgNode("svg", { viewBox: `0 0 ${image.width} ${image.height}`, role: "img" });
  svg.append(svgNode("image", { href: thumbURL(image.path, 384), width: image.width, height: image.height }));
  for (const [x, y, w, h, name] of image.truth) {
    svg.append(boxRect({ x, y, width: w, height: h, class: "truth" }, `${name} (ground truth)`));
  }
  for (const [x, y, w, h, name, score] of image.found) {
    svg.append(boxRect({ x, y, width: w, height: h, class: "found", "data-score": score }, `${name} ${score.toFixed(2)}`));
  }
  return el("figure", {}, svg, caption);
}

function applyThreshold(box) {
  const slider = box.querySelector("[data-threshold]");
  const threshold = Number(slider.value);
  box.querySelector("output").textContent = threshold.toFixed(2);
  let shown = 0;
  let total = 0;
  for (const rect of box.querySelectorAll("rect.found")) {
    const hidden = Number(rect.dataset.score) < threshold;
    rect.classList.toggle("hidden", hidden);
    total += 1;
    if (!hidden) shown += 1;
  }
  box.querySelector(".box-count").textContent = `${shown} of ${total} predicted boxes`;
}

async function loadBoxes(box) {
  const grid = box.querySelector(".box-grid");
  try {
    const data = await getJSON("/api/run/boxes?" + new URLSearchParams({ path: box.dataset.boxes }));
    grid.replaceChildren(...data.images.map(boxFigure));
    if (data.total > data.images.length) {
      grid.append(el("p", { class: "muted" }, `the first ${data.images.length} of ${data.total} images`));
    }
    box.querySelector("[data-threshold]").addEventListener("input", () => applyThreshold(box));
    applyThreshold(box);
    box.dataset.loaded = "1";
  } catch (err) {
    grid.replaceChildren(el("p", { class: "error" }, err.message));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-boxes]")) loadBoxes(box);
  const toggle = document.querySelector("[data-diff-toggle]");
  if (toggle) {
    toggle.addEventListener("change", () => {
      document.querySelector("table.diff").classList.toggle("only-diff", toggle.checked);
    });
  }
});
