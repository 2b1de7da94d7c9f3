"""A run folder (classifier or detector): created with its config, or checked to be the same run to resume;
its checkpoints written atomically and read back with clear errors."""

from __future__ import annotations

import io
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from feint.errors import FeintError
from feint.io import write_bytes_atomic, write_json_atomic


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
    return ckpt
