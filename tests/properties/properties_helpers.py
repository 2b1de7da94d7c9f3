"""Shared pieces of the property tests: an in-process `feint` runner, the exit-code rule, snapshots of
folders (to prove that no input changed and that a failed command left its output as it was), and the
known bugs of other areas that a property tolerates until their owners fix them."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, event, settings

# Failures in code owned by others, tolerated by name until their owners fix them; each is listed with
# where it lies and how it shows. FEINT_PROPERTIES_STRICT=1 tolerates none (to see which are fixed).
KNOWN_BUGS: dict[str, str] = {
    "graph-models-folder": "feint/graph/loader.py: `classes.X.models: FOLDER` with no model file in it "
    "validates `ok`, then `graph sample` (and a render) refuses it: no model files in this folder",
    "formats-non-utf8": "feint/datasets/formats (yolo.py data.yaml, label files; manifest.py classes.txt): a "
    "file with non-UTF-8 bytes is an internal error UnicodeDecodeError, exit 1",
    "formats-non-utf8-file-name": "feint/datasets/formats (imagefolder.py reads it, yolo.py/_common.py write "
    "it): an image whose file name is not UTF-8: internal error UnicodeEncodeError (surrogates), exit 1",
    "formats-coco-segmentation": "feint/datasets/formats/coco.py _mask: a segmentation pycocotools cannot "
    "read (a string, a number, [[1, 2, 3]]): internal error, exit 1",
    "formats-manifest-size": "feint/datasets/formats/manifest.py _size: a width/height cell `inf` (or "
    "1e400): internal error OverflowError, exit 1",
    "formats-manifest-newline": "feint/datasets/formats/manifest.py read_rows: a CSV line with too many "
    "fields: the error quotes pandas' message with its trailing newline, so it takes two stderr lines",
    "run-checkpoint-fields": "feint/evaluation/runs.py load_run, feint/detection/runs.py load_detector: a "
    "best.pt of the right format without its fields: internal error KeyError 'classes', exit 1",
    "render-seed-unchecked": "feint/cli/render.py: `feint render marine -n 1 -o OUT --size 16 --seed -1` "
    "is not refused up front: it writes OUT/render.json, starts a Blender worker, then fails (exit 2) with "
    "'image 0 failed in its worker: ValueError: expected non-negative integer' and leaves OUT behind",
    "detection-run-config": "feint/detection/runs.py load_detector: a run folder whose config.json is not a "
    "JSON object: internal error JSONDecodeError/AttributeError, exit 1",
}
STRICT = bool(os.environ.get("FEINT_PROPERTIES_STRICT"))


def known(name: str, applies: bool) -> bool:
    """Whether this outcome is the known bug `name` of another area (tolerated unless strict)."""
    if not applies:
        return False
    assert name in KNOWN_BUGS, name
    if not STRICT:
        event(f"known bug tolerated: {name}")
        return True
    return False


def property_settings(max_examples: int) -> settings:
    """Deterministic (CI), no deadline; FEINT_PROPERTIES_NOSHRINK=1 reports the first failing example as
    it was found (shrinking one that runs feint commands can take minutes)."""
    phases = [Phase.explicit, Phase.generate] if os.environ.get("FEINT_PROPERTIES_NOSHRINK") else list(Phase)
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None, phases=phases,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


def run_feint(*args: object) -> tuple[int, str, str]:
    """`feint ARGS` in this process through the real entry point: (exit code, stdout, stderr)."""
    from feint.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["feint", *map(str, args)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in args])
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.argv = saved
    return code, out.getvalue(), err.getvalue()


_CLICK_USAGE = re.compile(r"^Usage: feint .*\nTry 'feint .*--help' for help\.\n\nError: [^\n]+\n?$", re.S)


def check_exit(code: int, out: str, err: str, args: tuple = ()) -> None:
    """Exit 0; or exit 2 with one line `feint: error: ...` (or click's own usage message, which the entry
    point shows as it is for a malformed command line); never a traceback, an internal error or exit 1."""
    where = f"\nfeint {' '.join(map(str, args))}\nexit {code}\nstdout: {out[-2000:]}\nstderr: {err[-3000:]}"
    assert "Traceback" not in err and "Traceback" not in out, where
    assert "internal error" not in err, where
    assert code in (0, 2), where
    if code == 2:  # warnings and notes on what the command did before it stopped may come first
        lines = [ln for ln in err.strip("\n").split("\n") if not ln.startswith(("feint: warning: ",
                                                                                "feint: note: "))]
        one_line = len(lines) == 1 and lines[0].startswith("feint: error: ") and len(lines[0]) > 14
        assert one_line or _CLICK_USAGE.match(err), where


def digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except IsADirectoryError:
        return "dir"
    except OSError as err:  # a broken link, a file one cannot read
        return f"unreadable: {err.errno}"


def snapshot(*roots: Path) -> dict[str, str]:
    """Every entry under `roots` (the roots too): files by sha256 (links followed), folders, links by
    their target. Equal snapshots: nothing under the roots changed, appeared or went."""
    state: dict[str, str] = {}
    for root in roots:
        root = Path(root)
        if root.is_symlink():
            state[str(root)] = f"link -> {os.readlink(root)} {digest(root) if root.is_file() else ''}"
            continue
        if not root.exists():
            state[str(root)] = "absent"
            continue
        if root.is_file():
            state[str(root)] = digest(root)
            continue
        state[str(root)] = "dir"
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                p = Path(folder, name)
                if p.is_symlink():
                    state[str(p)] = f"link -> {os.readlink(p)} {digest(p) if p.is_file() else ''}"
                elif p.is_dir():
                    state[str(p)] = "dir"
                else:
                    state[str(p)] = digest(p)
    return state


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What differs between two snapshots, in words (empty: nothing)."""
    out = []
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            out.append(f"{key}: {before.get(key, '(absent)')} -> {after.get(key, '(absent)')}")
    return out


_HIDDEN = re.compile(r"^\..+\.(tmp|old)-\d+$|^\..+\.tmp$")


def half_written(*roots: Path) -> list[str]:
    """Hidden siblings a write leaves only when it is cut short: `.NAME.tmp-PID`, `.NAME.old-PID` (folders)
    and `.NAME.XXXX.tmp` (atomic file writes), anywhere under `roots`."""
    found = []
    for root in roots:
        if not Path(root).is_dir():
            continue
        for folder, dirs, files in os.walk(root):
            found += [str(Path(folder, n)) for n in dirs + files if _HIDDEN.match(n)]
    return found
