"""Output fingerprint: SHA-256 of what a small fixed job writes, to show a refactoring changed no behaviour.

Runs, in a temporary folder, through the real CLI:
- `feint render marine -n 6 --size 64 --seed 3` and `feint render bottles -n 4 --size 64 --seed 3`;
- a tiny study on the real ships-dev photos (two classes, 64 px, one seed) when FEINT_REAL_DATA is set.

Hashes every image, label file and numeric table; skips what records when and with which versions (cards,
timings, logs, the HTML report). Writes benchmarks/results/fingerprint.json; compare two runs with `diff`.
Usage: python benchmarks/fingerprint.py [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FEINT = [sys.executable, "-m", "feint.cli"]
# Files that record when and with which versions something was made, and tracking stores named by random
# ids: not behaviour.
SKIP_SUFFIXES = {".html", ".log", ".lock", ".db"}
SKIP_NAMES = {"feint-output.json", "feint-data.json"}
SKIP_FOLDERS = {"mlartifacts", "mlruns"}
# Keys and columns that hold times or versions. Paths are the same in every run: the job runs in one fixed
# folder (run ids and figures quote it).
VOLATILE = ("seconds", "time", "elapsed", "started", "finished", "versions")
WORK = Path(tempfile.gettempdir()) / "feint-fingerprint"


def _steady(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _steady(v) for k, v in value.items() if not any(t in k.lower() for t in VOLATILE)}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    return value


def digest(path: Path) -> str | None:
    """The file's hash; a table is hashed on its values (rounded), without timing or path columns."""
    if path.suffix in SKIP_SUFFIXES or path.name in SKIP_NAMES:
        return None
    if path.suffix in (".parquet", ".csv"):
        table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        keep = [c for c in table.columns if not any(v in str(c).lower() for v in VOLATILE)]
        table = table[keep].round(6) if keep else table.iloc[:, :0]
        return hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()
    if path.suffix == ".json":
        text = json.dumps(_steady(json.loads(path.read_text())), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if path.is_file() and not any(p.startswith(".") or p in SKIP_FOLDERS for p in parts):
            value = digest(path)
            if value is not None:
                out[str(path.relative_to(root))] = value
    return out


def feint(*args: str) -> None:
    subprocess.run([*FEINT, *args], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


STUDY = """name: fingerprint
real: {real}
classes: [sailboat, submarine]
seeds: [0]
image_size: 64
synthetic: {{per_class: 8, size: 64, workers: 1}}
baseline_fractions: [0.5, 1.0]
grid_fractions: [0.5]
grid_synthetic: [8]
epochs: {{fractions: [0.5, 1.0], max_epochs: 4}}
steps: [baseline, epochs, zero_shot, grid]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "fingerprint.json")
    args = parser.parse_args()
    result: dict[str, dict[str, str]] = {}
    shutil.rmtree(WORK, ignore_errors=True)  # this script's own scratch folder
    work = WORK
    work.mkdir()
    feint("render", "marine", "-n", "6", "--size", "64", "--seed", "3", "--workers", "1", "-o", f"{work}/m")
    result["render-marine"] = tree_digest(work / "m")
    feint("render", "bottles", "-n", "4", "--size", "64", "--seed", "3", "--workers", "1", "-o", f"{work}/b")
    result["render-bottles"] = tree_digest(work / "b")
    real = os.environ.get("FEINT_REAL_DATA")
    if real:
        spec = work / "study.yaml"
        spec.write_text(STUDY.format(real=Path(real, "ships-dev")))
        feint("study", "run", str(spec), "-o", f"{work}/s", "--cache", f"{work}/cache")
        result["study"] = tree_digest(work / "s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"{sum(map(len, result.values()))} files hashed -> {args.out}")


if __name__ == "__main__":
    main()
