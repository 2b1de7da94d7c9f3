"""Shared pieces of the property tests: an in-process `feint` runner, the exit-code rule, snapshots of
folders (to prove that no input changed and that a failed command left its output as it was), and
the leftovers of an interrupted write."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings


def property_settings(max_examples: int) -> settings:
    """Deterministic (CI), no deadline; FEINT_PROPERTIES_NOSHRINK=1 reports the first failing example as
    it was found (shrinking one that runs feint commands can take minutes)."""
    phases = [Phase.explicit, Phase.generate] if os.environ.get("FEINT_PROPERTIES_NOSHRINK") else list(Phase)
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=phases,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


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


def check_exit(code: int, out: str, err: str, args: tuple = ()) -> None:
    """Exit 0; or exit 2 with one line `feint: error: ...` (a malformed command line too); never a
    traceback, an internal error or exit 1."""
    where = f"\nfeint {' '.join(map(str, args))}\nexit {code}\nstdout: {out[-2000:]}\nstderr: {err[-3000:]}"
    assert "Traceback" not in err and "Traceback" not in out, where
    assert "internal error" not in err, where
    assert code in (0, 2), where
    if code == 2:  # warnings and notes on what the command did before it stopped may come first
        lines = [
            ln
            for ln in err.strip("\n").split("\n")
            if not ln.startswith(("feint: warning: ", "feint: note: "))
        ]
        one_line = len(lines) == 1 and lines[0].startswith("feint: error: ") and len(lines[0]) > 14
        assert one_line, where


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
