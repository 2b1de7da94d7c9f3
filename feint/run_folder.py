"""A run folder (classifier or detector): created with its config, or checked to be the same run to resume;
its checkpoints written atomically and read back with clear errors, the versions it was made with."""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from feint.errors import FeintError
from feint.io import write_bytes_atomic, write_json_atomic


def versions() -> dict[str, str]:
    """The versions a run records in run.json: feint, Python and the libraries that change its numbers."""
    import numpy as np
    import torch
    import torchvision

    import feint

    found = {
        "feint": feint.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
    }
    try:
        import timm

        found["timm"] = timm.__version__
    except ImportError:
        pass
    return found


def prepare_run_folder(
    out: Path, config: dict[str, Any], resume: bool, resume_free: Collection[str]
) -> Path | None:
    """Create `out` with config.json, or check that it holds this very run (all settings equal but those in
    `resume_free`) and `resume` was asked for; returns the run's last.pt when there is one to resume from."""
    wanted = {k: v for k, v in config.items() if k not in resume_free}
    if out.exists() and any(out.iterdir()):
        config_file = out / "config.json"
        if not config_file.is_file():
            raise FeintError(f"{out}: folder exists and is not a feint run; pick a new folder")
        if not resume:
            raise FeintError(f"{out}: run folder exists; pass --resume to continue it, or pick a new folder")
        had = {k: v for k, v in json.loads(config_file.read_text()).items() if k not in resume_free}
        changed = sorted(k for k in set(had) | set(wanted) if had.get(k) != wanted.get(k))
        if changed:
            raise FeintError(
                f"{out}: cannot resume with different settings ({', '.join(changed)}: was "
                f"{had.get(changed[0])!r}, now {wanted.get(changed[0])!r})"
            )
        last = out / "last.pt"
        return last if last.is_file() else None
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "config.json", config)
    return None


def data_fingerprint(rows: Sequence[Sequence[Any]], classes: Sequence[str]) -> str:
    """sha256 of the data a run trains on: the class list in order and the sorted rows (file, label(s),
    source, part ...), each with the file's size in bytes, so that other images under the same names (a
    render redone into the same folder) count as other data."""
    digest = hashlib.sha256(json.dumps(list(classes)).encode())
    for line in sorted(json.dumps([*map(_plain, row), _file_size(row[0])]) for row in rows):
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def _file_size(file: Any) -> int | None:
    try:
        return os.path.getsize(file)
    except OSError:
        return None


def check_same_data(
    out: Path, fingerprint: str, classes: Sequence[str], rows: Sequence[dict[str, Any]], label: str
) -> None:
    """Resuming: the classes and the data (its fingerprint, recorded in run.json) must be those the run
    began with, else the rest of the run would train on other images under the same settings.

    `rows` are the new data.csv rows ({file, `label`, part, ...}); compared with the run's data.csv they
    say what changed."""
    run_json = out / "run.json"
    if not run_json.is_file():  # nothing trained yet: nothing to compare
        return
    try:
        before = json.loads(run_json.read_text())
    except (OSError, ValueError):
        raise FeintError(f"{run_json}: unreadable run record; pick a new folder") from None
    had = before.get("classes") if isinstance(before, dict) else None
    if had is not None and list(had) != list(classes):
        raise FeintError(
            f"{out}: cannot resume: the classes changed (were {', '.join(map(str, had))}; now "
            f"{', '.join(classes)}); start a new run in another folder"
        )
    recorded = (before.get("data") or {}).get("fingerprint") if isinstance(before, dict) else None
    old_rows = _read_rows(out / "data.csv")
    new_rows = {(str(r["file"]), str(r["part"])): str(r[label]) for r in rows}
    if recorded is not None:
        if recorded == fingerprint:
            return
    elif old_rows is None or old_rows == new_rows:
        return
    what = f" ({_changes(old_rows, new_rows, label)})" if old_rows is not None else ""
    raise FeintError(
        f"{out}: cannot resume: the data changed since the run began{what}; start a new run "
        "in another folder, or restore the data"
    )


def _read_rows(path: Path) -> dict[tuple[str, str], str] | None:
    import csv

    if not path.is_file():
        return None
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        label = next((k for k in ("class", "boxes") if k in (reader.fieldnames or [])), None)
        return {(r["file"], r["part"]): r[label] if label else "" for r in reader}


def _changes(old: dict[tuple[str, str], str], new: dict[tuple[str, str], str], label: str) -> str:
    """What differs between two data tables, in words: images added, gone, moved, relabelled."""
    old_files = {f: (part, value) for (f, part), value in old.items()}
    new_files = {f: (part, value) for (f, part), value in new.items()}
    added = sorted(set(new_files) - set(old_files))
    gone = sorted(set(old_files) - set(new_files))
    both = sorted(set(old_files) & set(new_files))
    moved = [f for f in both if old_files[f][0] != new_files[f][0]]
    relabelled = [f for f in both if old_files[f][1] != new_files[f][1]]
    said = []
    if added:
        said.append(f"{_images(added)} added, e.g. {added[0]}")
    if gone:
        said.append(f"{_images(gone)} gone, e.g. {gone[0]}")
    if relabelled:
        f = relabelled[0]
        word = "class" if label == "class" else "box count"
        said.append(
            f"{_images(relabelled)} with another {word}, e.g. {f}: was {old_files[f][1]!r}, "
            f"now {new_files[f][1]!r}"
        )
    if moved:
        said.append(f"{_images(moved)} moved between training and validation, e.g. {moved[0]}")
    return "; ".join(said) or (
        "the same file names and classes, but other file contents"
        if label == "class"
        else "the same file names, but other boxes or file contents"
    )


def _images(files: Sequence[str]) -> str:
    return f"{len(files)} image{'s' if len(files) != 1 else ''}"


def save_checkpoint(obj: dict[str, Any], path: Path) -> None:
    """torch.save, atomically: a kill mid-write never leaves a half checkpoint for --resume to trip on."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes_atomic(path, buffer.getvalue())


def read_checkpoint(path: Path, fmt: str, kind: str, run_hint: str) -> dict[str, Any]:
    """A checkpoint of format `fmt` (e.g. feint-classifier/1); `kind` and `run_hint` word the errors."""
    import torch

    if not path.is_file():
        raise FeintError(f"{path}: checkpoint not found (is {path.parent} {run_hint}?)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # a truncated or foreign file
        raise FeintError(f"{path}: unreadable checkpoint ({err})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != fmt:
        raise FeintError(f"{path}: not a feint {kind} checkpoint")
    missing = [k for k in ("classes", "size", "backbone") if k not in ckpt]
    if missing:
        raise FeintError(f"{path}: a damaged {kind} checkpoint (no {', '.join(missing)})")
    return ckpt
