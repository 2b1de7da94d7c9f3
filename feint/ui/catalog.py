"""What lies under the app's folders: datasets, classifier and detector runs, studies and graph files.

Each kind is told by its marker files, the same ones the CLI reads (a study folder has study.json and
summary.json; a run has config.json and run.json; a dataset is anything `feint data` reads), so the app
shows exactly what the commands would accept. The walk stops at what it recognises (a dataset's images/
folder is not searched for more datasets) and at a fixed depth, so a large tree is listed quickly.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from feint.ui.roots import Roots

MAX_DEPTH = 4
# Folders a feint output keeps its parts in: never datasets or runs of their own.
_PARTS = {"images", "records", "labels", "runs", "failure", "ablations", "thumbs", "__pycache__"}


@dataclass(frozen=True)
class Entry:
    """One thing the app can open: `kind` is dataset, classifier, detector, study or graph."""

    kind: str
    path: Path
    name: str
    detail: str = ""


def _run_kind(folder: Path) -> str | None:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict):
        return None
    if "model" in config:
        return "detector"
    if "mode" in config:
        return "classifier"
    return None


def is_graph_file(path: Path) -> bool:
    """A YAML file whose top level names a channel or a graph it extends (a study file names `real`)."""
    if path.suffix.lower() not in (".yaml", ".yml") or path.name in ("data.yaml", "data.yml"):
        return False
    try:
        if path.stat().st_size > 1_000_000:
            return False
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and ("channel" in data or "extends" in data) and "real" not in data


def _dataset_detail(folder: Path) -> str | None:
    """The format name if `feint data` would read this folder as a dataset, else None."""
    from feint.datasets.formats import detect_format
    from feint.errors import FeintError

    try:
        return detect_format(folder)
    except (FeintError, OSError):
        return None


def scan(roots: Roots) -> list[Entry]:
    """Everything recognised under the readable folders (the app's own work folder included: previews)."""
    found: list[Entry] = []
    seen: set[Path] = set()
    for root in (*roots.folders, roots.workdir):
        if root.is_dir():
            _walk(root, root, 0, found, seen, roots)
    order = {"study": 0, "classifier": 1, "detector": 2, "dataset": 3, "graph": 4}
    return sorted(found, key=lambda e: (order[e.kind], str(e.path)))


def _walk(root: Path, folder: Path, depth: int, found: list[Entry], seen: set[Path], roots: Roots) -> None:
    real = Path(os.path.realpath(folder))
    if real in seen or not roots.allows(real):
        return
    seen.add(real)
    name = str(folder.relative_to(root.parent)) if folder != root else folder.name
    if (folder / "study.json").is_file() and (folder / "summary.json").is_file():
        found.append(Entry("study", real, name))
        return
    if (folder / "run.json").is_file() and (kind := _run_kind(folder)) is not None:
        found.append(Entry(kind, real, name))
        return
    fmt = _dataset_detail(folder) if depth > 0 or _has_marker(folder) else None
    if fmt is not None and fmt != "imagefolder":
        found.append(Entry("dataset", real, name, fmt))
        return
    if fmt == "imagefolder" and _looks_like_imagefolder(folder):
        found.append(Entry("dataset", real, name, fmt))
        return
    if depth >= MAX_DEPTH:
        return
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return
    for child in children:
        if child.name.startswith(".") or child.name in _PARTS:
            continue
        if child.is_file() and is_graph_file(child) and roots.allows(child):
            found.append(Entry("graph", Path(os.path.realpath(child)), str(child.relative_to(root.parent))))
        elif child.is_dir():
            _walk(root, child, depth + 1, found, seen, roots)


def _has_marker(folder: Path) -> bool:
    return any((folder / m).is_file() for m in ("annotations.json", "data.yaml", "manifest.csv"))


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def _looks_like_imagefolder(folder: Path) -> bool:
    """Class folders holding images directly (a look at a few files of a few folders), not a tree of other
    outputs such as a cache of render folders."""
    try:
        subs = [s for s in sorted(folder.iterdir()) if s.is_dir() and not s.name.startswith(".")][:3]
        if not subs:
            return False
        for sub in subs:
            files = sorted(sub.iterdir())[:5]
            if not files or not all(f.suffix.lower() in _IMAGE_SUFFIXES for f in files):
                return False
    except OSError:
        return False
    return True
