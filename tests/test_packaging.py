"""feint as users install it: every pin of pyproject.toml is in the lock that `make install` installs from
(with hashes), and the built wheel carries the package data the commands read (built-in graphs, studies,
search spaces). `make wheel-check` (CI) goes further: it installs the wheel in a clean environment and
renders with it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of requirements.lock."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = _name(match[1])
            entries[current] = (match[2], [])
        elif current and line.strip().startswith("--hash=sha256:"):
            entries[current][1].append(line.strip().removesuffix(" \\"))
    return entries


def test_every_pin_of_the_project_is_locked_at_its_version_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        pins += extra
    lock = locked()
    for pin in pins:
        match = PIN.match(pin)
        assert match, f"pyproject.toml: {pin!r} is not pinned with =="
        name, version = _name(match[1]), match[2]
        if name == "ultralytics":  # the opt-in AGPL extra stays out of the default install and its lock
            continue
        assert name in lock, f"{name} is not in requirements.lock: run `make lock`"
        assert lock[name][0] == version, f"{name}: pyproject {version}, lock {lock[name][0]}: run `make lock`"
    assert all(hashes for _, hashes in lock.values()), "every locked package needs its hashes"
    assert "pip" not in lock, "pip is pinned by the Makefile, not the lock"


def test_the_wheel_carries_every_file_the_package_reads(tmp_path):
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    source = tmp_path / "src"  # a copy of the checkout: building writes build/ and *.egg-info beside it
    for name in tracked.split():
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*build, "-w", tmp_path / "dist", source], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("feint-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    package = [f for f in tracked.split() if f.startswith("feint/")]
    assert any(f.startswith("feint/graph/builtin/") for f in package)
    missing = [f for f in package if f not in inside]
    assert not missing, f"not in the wheel: {missing}"
