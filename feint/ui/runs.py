"""The Runs page: classifier and detector runs, their curves, evaluations and predictions, and two runs side
by side.

A run folder is what `feint train` / `feint detect train` wrote (config.json, run.json, metrics.jsonl) plus
what was written into it later: `feint eval` folders (eval-*/: metrics.json, predictions.csv), `feint
detect eval` folders (detect-eval-*/: metrics.json, detections.json, ground_truth.json) and `feint detect
predict` folders (detections.json, images.json), the latter also anywhere else under the app's folders when
their feint-output.json names the run. Every file is read through `Roots.check` (a symlink inside a run may
point anywhere) and read leniently: a run still training, or half copied, shows what it has.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from feint.errors import FeintError
from feint.ui import catalog
from feint.ui.roots import Roots
from feint.ui.web import checked, page, roots

router = APIRouter()

MAX_THUMBS = 120  # predictions shown per classifier evaluation (mistakes first)
MAX_BOX_IMAGES = 48  # images drawn per detector evaluation or prediction folder
MAX_BOXES = 100  # predicted boxes per image (the highest scores)
SCORE_WORDS = ("accuracy", "f1", "map", "ap@", "loss")  # metric names whose better value is marked
RUN_COLOURS = ("#1f6feb", "#e8590c")  # run A and run B wherever two runs are shown together

# (metrics.jsonl key, label, line style) of each curve panel.
LOSS = (("train_loss", "train", "-"), ("val_loss", "validation", "--"))
ACCURACY = (("train_accuracy", "train", "-"), ("val_accuracy", "validation", "--"))
MAP = (("val_map50", "mAP@0.5", "-"), ("val_map", "mAP@0.5:0.95", "--"))


@dataclass
class Evaluation:
    """One evaluation folder inside a run: its metrics and, for a classifier, its scored images."""

    folder: Path
    metrics: dict[str, Any]
    predictions: list[dict[str, Any]] = field(default_factory=list)  # mistakes first, at most MAX_THUMBS
    total: int = 0  # rows of predictions.csv

    @property
    def name(self) -> str:
        return self.folder.name


@dataclass
class RunView:
    """A run as the pages show it."""

    path: Path
    kind: str  # classifier or detector
    config: dict[str, Any]
    info: dict[str, Any]  # run.json
    history: list[dict[str, Any]]
    evaluations: list[Evaluation]
    predictions: list[Path]  # `feint detect predict` folders of this run

    @property
    def name(self) -> str:
        return self.path.name


def read_json(folders: Roots, path: Path) -> Any:
    """A JSON file under the app's folders, or None when absent, outside or damaged (being written)."""
    if not path.is_file() or not folders.allows(path):
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_kind(config: Any) -> str | None:
    """classifier or detector, told as `feint.deploy.export.run_kind` tells them (by config.json)."""
    if not isinstance(config, dict):
        return None
    if "model" in config:
        return "detector"
    return "classifier" if "mode" in config else None


def history(folders: Roots, run: Path) -> list[dict[str, Any]]:
    """The rows of metrics.jsonl, one per epoch; a line being written is skipped."""
    path = run / "metrics.jsonl"
    if not path.is_file() or not folders.allows(path):
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "epoch" in row:
            rows.append(row)
    return rows


def open_run(folders: Roots, path: Path) -> RunView:
    config = read_json(folders, path / "config.json")
    kind = run_kind(config)
    if kind is None:
        raise HTTPException(
            404, f"{path}: not a run (no config.json of `feint train` or `feint detect train`)"
        )
    info = read_json(folders, path / "run.json")
    return RunView(
        path=path,
        kind=kind,
        config=config,
        info=info if isinstance(info, dict) else {},
        history=history(folders, path),
        evaluations=evaluations(folders, path, kind),
        predictions=prediction_folders(folders, path),
    )


def evaluations(folders: Roots, run: Path, kind: str) -> list[Evaluation]:
    pattern = "eval-*" if kind == "classifier" else "detect-eval-*"
    found = []
    for folder in sorted(run.glob(pattern)):
        metrics = read_json(folders, folder / "metrics.json")
        if not folder.is_dir() or not isinstance(metrics, dict):
            continue
        rows = scored_images(folders, folder / "predictions.csv") if kind == "classifier" else []
        found.append(Evaluation(folder, metrics, rows[:MAX_THUMBS], len(rows)))
    return found


def scored_images(folders: Roots, path: Path) -> list[dict[str, Any]]:
    """predictions.csv as rows, the mistakes first and the most confident mistakes first of all: what a
    user looks at first is where the model was sure and wrong."""
    if not path.is_file() or not folders.allows(path):
        return []
    rows = []
    for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
        try:
            score = float(row.get("score") or 0.0)
        except ValueError:
            score = 0.0
        file = row.get("file") or ""
        rows.append(
            {
                "file": file,
                "true": row.get("class", ""),
                "predicted": row.get("predicted", ""),
                "score": score,
                "correct": row.get("correct") == "True",
                "allowed": bool(file) and folders.allows(file),
            }
        )
    return sorted(rows, key=lambda r: (r["correct"], -r["score"]))


def is_prediction_folder(folder: Path) -> bool:
    """What `feint detect predict` writes (an evaluation has ground_truth.json instead of images.json)."""
    return (folder / "detections.json").is_file() and (folder / "images.json").is_file()


def prediction_folders(folders: Roots, run: Path) -> list[Path]:
    """`feint detect predict` folders of this run: inside it (its default output) or anywhere under the
    app's folders whose feint-output.json names it."""
    inside = [f for f in sorted(run.iterdir()) if f.is_dir() and is_prediction_folder(f)]
    outside = []
    for entry in catalog.scan(folders):
        if entry.kind != "dataset" or not is_prediction_folder(entry.path) or entry.path in inside:
            continue
        card = read_json(folders, entry.path / "feint-output.json")
        named = card.get("params", {}).get("run") if isinstance(card, dict) else None
        if isinstance(named, str) and Path(named).resolve() == run:
            outside.append(entry.path)
    return inside + outside


def curves_svg(runs: Sequence[tuple[str, str, list[dict[str, Any]]]]) -> str:
    """Loss and accuracy (classifier) or validation mAP (detector) per epoch as an inline SVG; each run
    is (label, kind, history). Two runs are told apart by colour, the curves of one run by line style."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # no pyplot: its global state is not safe across request threads
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(9, 3.1))
    ax_loss, ax_score = fig.subplots(1, 2)
    kinds = {kind for _, kind, _ in runs}
    several = len(runs) > 1
    for r, (label, kind, rows) in enumerate(runs):
        score = MAP if kind == "detector" else ACCURACY
        for ax, series in ((ax_loss, LOSS), (ax_score, score)):
            for s, (key, name, style) in enumerate(series):
                points = [(h["epoch"], h[key]) for h in rows if isinstance(h.get(key), int | float)]
                if points:
                    colour = RUN_COLOURS[r % 2] if several else f"C{s}"
                    text = f"{label} {name}" if several else name
                    ax.plot(*zip(*points, strict=True), style, marker="o", ms=3, color=colour, label=text)
            if rows and "best_epoch" in rows[-1]:
                ax.axvline(rows[-1]["best_epoch"], color=RUN_COLOURS[r % 2] if several else "grey", ls=":")
    titles = {"classifier": "accuracy", "detector": "validation mAP"}
    ax_score.set_title(titles[kinds.pop()] if len(kinds) == 1 else "accuracy / validation mAP")
    ax_score.set_ylim(0, 1.02)
    ax_loss.set_title("loss")
    empty = "no validation data" if any(rows for _, _, rows in runs) else "no epochs recorded"
    for ax in (ax_loss, ax_score):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes, color="grey")
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """A nested config as dotted keys and short display values (lists joined, None as a dash)."""
    if isinstance(data, dict) and data:
        out: dict[str, str] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if data is None or data == {}:
        return {prefix: "—"}
    if isinstance(data, list):
        return {prefix: ", ".join(str(v) for v in data) or "—"}
    return {prefix: str(data)}


def headline(run: RunView) -> dict[str, str]:
    """The few numbers of a run's card: status, best epoch, its validation score, images, time."""
    info, best = run.info, run.info.get("best") or {}
    data = info.get("data") or {}
    out = {"status": str(info.get("status", "unknown"))}
    if info.get("best_epoch") is not None:
        out["best epoch"] = f"{info['best_epoch']} of {info.get('epochs_run', '?')}"
    for key, name in (
        ("val_accuracy", "val accuracy"),
        ("val_map50", "val mAP@0.5"),
        ("val_loss", "val loss"),
    ):
        if isinstance(best.get(key), int | float):
            out[name] = f"{best[key]:.3f}"
    if "train" in data:
        out["train images"] = str(data["train"]) + (f" + {data['val']} val" if data.get("val") else "")
    if isinstance(info.get("seconds_this_session"), int | float):
        out["training time"] = f"{info['seconds_this_session']:.0f} s"
    return out


def run_facts(run: RunView) -> dict[str, str]:
    """run.json beyond the headline: versions, machine, backbone, data counts, times."""
    info = run.info
    keys = ("started", "finished", "seed", "backbone", "versions", "machine", "data", "resumed_at_epoch")
    facts = flatten({k: info[k] for k in keys if k in info})
    return {k: v for k, v in facts.items() if not k.endswith(".fingerprint")}


def evaluation_summary(ev: Evaluation, kind: str) -> dict[str, str]:
    """The headline numbers of an evaluation (with the bootstrap interval where the evaluation has one)."""
    m, ci = ev.metrics, ev.metrics.get("bootstrap_95") or {}
    keys = (
        (("accuracy", "accuracy"), ("balanced_accuracy", "balanced accuracy"), ("macro_f1", "macro F1"))
        if kind == "classifier"
        else (("map50", "mAP@0.5"), ("map", "mAP@0.5:0.95"))
    )
    out = {}
    for key, name in keys:
        if isinstance(m.get(key), int | float):
            low_high = ci.get(key)
            out[name] = f"{m[key]:.3f}" + (f" [{low_high[0]:.2f}–{low_high[1]:.2f}]" if low_high else "")
    for key in ("images", "gt_boxes", "detections"):
        if key in m:
            out[key.replace("_", " ")] = str(m[key])
    return out


def confusion(ev: Evaluation) -> dict[str, Any] | None:
    """The confusion matrix with each cell's row share (for its shade)."""
    cm = ev.metrics.get("confusion_matrix")
    if not isinstance(cm, dict) or "counts" not in cm:
        return None
    rows = []
    for counts in cm["counts"]:
        total = sum(counts) or 1
        rows.append([(c, c / total) for c in counts])
    return {"classes": cm.get("classes", []), "rows": rows}


def predictions_card(folders: Roots, folder: Path) -> dict[str, Any]:
    """What a `feint detect predict` folder says about itself: its run, inputs and score threshold."""
    card = read_json(folders, folder / "feint-output.json")
    params = card.get("params", {}) if isinstance(card, dict) else {}
    run = params.get("run")
    return {
        "path": folder,
        "run": run if isinstance(run, str) and folders.allows(run) else None,
        "inputs": params.get("inputs") or [],
        "conf": params.get("conf", 0.25),
    }


def run_summary(folders: Roots, entry: catalog.Entry) -> dict[str, Any]:
    info = read_json(folders, entry.path / "run.json")
    info = info if isinstance(info, dict) else {}
    best = info.get("best") or {}
    score = next((f"{k} {best[k]:.3f}" for k in ("val_accuracy", "val_map50") if k in best), "")
    return {"entry": entry, "status": info.get("status", ""), "score": score}


def other_runs(folders: Roots, path: Path) -> list[catalog.Entry]:
    return [e for e in catalog.scan(folders) if e.kind in ("classifier", "detector") and e.path != path]


@router.get("/runs", response_class=HTMLResponse)
def runs_list(request: Request) -> HTMLResponse:
    folders = roots(request)
    entries = [e for e in catalog.scan(folders) if e.kind in ("classifier", "detector")]
    return page(request, "runs.html", title="Runs", runs=[run_summary(folders, e) for e in entries])


@router.get("/run", response_class=HTMLResponse)
def run_page(request: Request, path: str) -> HTMLResponse:
    """A run, or a `feint detect predict` folder on its own."""
    folders = roots(request)
    folder = checked(request, path)
    if not folder.is_dir():
        raise HTTPException(404, f"{path}: not a folder")
    if is_prediction_folder(folder) and run_kind(read_json(folders, folder / "config.json")) is None:
        return page(request, "run.html", run=None, prediction=predictions_card(folders, folder))
    run = open_run(folders, folder)
    return page(
        request,
        "run.html",
        run=run,
        prediction=None,
        headline=headline(run),
        facts=run_facts(run),
        config=flatten(run.config),
        curves=curves_svg([(run.name, run.kind, run.history)]),
        evaluations=[
            {
                "ev": ev,
                "summary": evaluation_summary(ev, run.kind),
                "confusion": confusion(ev),
                "per_class": ev.metrics.get("per_class") or [],
            }
            for ev in run.evaluations
        ],
        predictions=[predictions_card(folders, f) for f in run.predictions],
        others=other_runs(folders, folder),
    )


@router.get("/runs/compare", response_class=HTMLResponse)
def compare_page(request: Request, a: str, b: str) -> HTMLResponse:
    """Two runs side by side: what differs in their configs, their curves overlaid, their metrics."""
    folders = roots(request)
    first, second = (open_run(folders, checked(request, p)) for p in (a, b))
    labels = ("A", "B") if first.name == second.name else (first.name, second.name)
    config_a, config_b = flatten(first.config), flatten(second.config)
    diff = [
        (key, config_a.get(key, "—"), config_b.get(key, "—")) for key in dict.fromkeys([*config_a, *config_b])
    ]
    return page(
        request,
        "runs_compare.html",
        runs=(first, second),
        labels=labels,
        colours=RUN_COLOURS,
        diff=diff,
        curves=curves_svg([(labels[0], first.kind, first.history), (labels[1], second.kind, second.history)]),
        metrics=compare_metrics(first, second),
    )


def compare_metrics(first: RunView, second: RunView) -> list[dict[str, Any]]:
    """Sections of (metric, value A, value B, which is better): the run's best epoch, then each evaluation
    folder name either run has (the same data evaluated by both lines up)."""
    sections = [{"title": "training (best epoch)", "rows": _rows(headline(first), headline(second))}]
    names = dict.fromkeys(ev.name for run in (first, second) for ev in run.evaluations)
    for name in names:
        values = []
        for run in (first, second):
            ev = next((e for e in run.evaluations if e.name == name), None)
            values.append(_evaluation_numbers(ev, run.kind) if ev else {})
        sections.append({"title": name, "rows": _rows(*values)})
    return sections


def _evaluation_numbers(ev: Evaluation, kind: str) -> dict[str, str]:
    numbers = evaluation_summary(ev, kind)
    for row in ev.metrics.get("per_class") or []:
        key, name = ("f1", "F1") if kind == "classifier" else ("ap50", "AP@0.5")
        if isinstance(row.get(key), int | float):
            numbers[f"{row.get('class')} {name}"] = f"{row[key]:.3f}"
    return numbers


def _rows(a: dict[str, str], b: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(name, A, B, "a"/"b"/"") with the better of two scores marked: lower for a loss, higher otherwise;
    counts and times are not scores and are never marked."""
    rows = []
    for key in dict.fromkeys([*a, *b]):
        va, vb = a.get(key, "—"), b.get(key, "—")
        better = ""
        if any(word in key.lower() for word in SCORE_WORDS):
            try:
                xa, xb = float(va.split()[0]), float(vb.split()[0])
            except (ValueError, IndexError):
                xa = xb = 0.0
            if xa != xb:
                better = "a" if (xa < xb) == ("loss" in key) else "b"
        rows.append((key, va, vb, better))
    return rows


@router.get("/api/run/boxes")
def boxes(request: Request, path: str) -> dict[str, Any]:
    """The images of a detector evaluation or prediction folder with their boxes, for the page to draw
    (and filter by score as the slider moves, without asking again): ground truth where there is some."""
    folders = roots(request)
    folder = checked(request, path)
    found = read_json(folders, folder / "detections.json")
    truth = read_json(folders, folder / "ground_truth.json")
    index = truth if isinstance(truth, dict) else read_json(folders, folder / "images.json")
    if not isinstance(found, list) or not isinstance(index, dict):
        raise FeintError(f"{folder}: no detections.json with ground_truth.json or images.json")
    names = {c["id"]: c["name"] for c in index.get("categories", [])}
    predicted = _boxes_by_image(found, names, scored=True)
    labelled = _boxes_by_image(truth.get("annotations", []), names, scored=False) if truth else {}
    images = index.get("images", [])
    return {
        "truth": isinstance(truth, dict),
        "total": len(images),
        "images": [
            {
                "path": image["file_name"],
                "allowed": folders.allows(image["file_name"]),
                "width": image.get("width"),
                "height": image.get("height"),
                "truth": labelled.get(image["id"], []),
                "found": predicted.get(image["id"], [])[:MAX_BOXES],
            }
            for image in images[:MAX_BOX_IMAGES]
        ],
    }


def _boxes_by_image(items: list[dict[str, Any]], names: dict[int, str], scored: bool) -> dict[int, list[Any]]:
    """COCO boxes grouped by image: [x, y, w, h, class] (+ score, highest first, where `scored`)."""
    out: dict[int, list[Any]] = {}
    for item in items:
        box = [*item["bbox"], names.get(item["category_id"], str(item["category_id"]))]
        out.setdefault(item["image_id"], []).append([*box, item["score"]] if scored else box)
    if scored:
        for rows in out.values():
            rows.sort(key=lambda r: -r[5])
    return out
