// The study page: choosing the run of the confusion matrix, and a cell's photos beside their nearest renders.
"use strict";

// A thumbnail, or the grey placeholder of an image outside the folders feint ui was given.
function studyThumb(path, allowed, size) {
  if (!allowed) return el("div", { class: "outside", title: path }, "outside the folders given to feint ui");
  return el("img", { src: thumbURL(path, size), alt: path, title: path, loading: "lazy" });
}

function nearestRow(photo) {
  const renders = el("div", { class: "nearest" });
  if (photo.nearest === null) {
    renders.append(el("p", { class: "muted" }, "no nearest renders (see above)"));
  } else {
    for (const r of photo.nearest) {
      renders.append(
        el("figure", { class: "render" }, studyThumb(r.file, true, 192),
          el("figcaption", { title: `${r.file}\ncosine similarity ${r.similarity}` },
            `${r.label} · ${r.similarity.toFixed(2)}`)));
    }
  }
  return el("div", { class: "cell-photo" },
    el("figure", { class: "photo" }, studyThumb(photo.file, photo.allowed, 192),
      el("figcaption", { title: photo.file }, photo.group)),
    renders);
}

async function openCell(section, button) {
  const panel = section.querySelector("#cell");
  for (const b of section.querySelectorAll("button.cell.on")) b.classList.remove("on");
  button.classList.add("on");
  panel.replaceChildren(el("p", { class: "muted" }, "loading photos…"));
  const q = new URLSearchParams({
    path: section.dataset.study, run: section.dataset.run,
    true: button.dataset.true, pred: button.dataset.pred,
  });
  try {
    const cell = await getJSON("/api/study/cell?" + q.toString());
    const n = cell.photos.length;
    const head = el("h3", {}, `${n} ${cell.true} photo${n === 1 ? "" : "s"} predicted ${cell.predicted}`,
      el("span", { class: "muted" }, ` · nearest renders by cosine similarity of ${cell.features} features`));
    const notes = cell.notes.map((line) => el("p", { class: "note" }, line));
    const photos = el("div", { class: "cell-photos" }, ...cell.photos.map(nearestRow));
    panel.replaceChildren(head, ...notes, photos);
  } catch (err) {
    panel.replaceChildren(el("p", { class: "error" }, err.message));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const section = document.getElementById("confusion");
  if (!section) return;
  const choice = section.querySelector("#run-choice");
  choice.addEventListener("change", () => {
    const q = new URLSearchParams({ path: section.dataset.study, run: choice.value });
    window.location.assign("/study?" + q.toString() + "#confusion");
  });
  for (const button of section.querySelectorAll("button.cell")) {
    button.addEventListener("click", () => openCell(section, button));
  }
});
