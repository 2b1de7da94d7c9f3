"""`feint data ...` end to end on tiny datasets, and the one-line error of the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from feint.cli import _register, app
from feint.datasets import load_dataset
from feint.datasets.split import leaking_groups

_register()
runner = CliRunner()


def feint(*args: object) -> str:
    result = runner.invoke(app, ["data", *map(str, args)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_convert_split_subsample_select_merge_stats_preview(manifest_dir, render_dir, tmp_path):
    out = feint("convert", manifest_dir, "-o", tmp_path / "coco", "--to", "coco", "--check")
    assert "(coco): 24 images; 3 classes; 0 boxes" in out

    out = feint("split", manifest_dir, "-o", tmp_path / "split", "--ratios", "0.5,0.25,0.25", "--seed", "1")
    split = load_dataset(tmp_path / "split")
    assert split.splits == ["train", "val", "test"] and leaking_groups(split) == []
    assert f"train {len(split.split('train'))}" in out

    feint("subsample", tmp_path / "split", "-o", tmp_path / "sub", "--fraction", "0.5", "--in-split", "train")
    sub = load_dataset(tmp_path / "sub")
    assert len(sub.split("val")) == len(split.split("val"))
    assert len(sub.split("train")) < len(split.split("train"))

    (tmp_path / "map.csv").write_text("cat,feline\n")
    out = feint(
        "select",
        tmp_path / "split",
        "-o",
        tmp_path / "sel",
        "--map",
        tmp_path / "map.csv",
        "--classes",
        "feline,dog",
        "--where",
        "low_detail=0",
        "--split",
        "train",
    )
    sel = load_dataset(tmp_path / "sel")
    assert sel.classes == ["feline", "dog"] and {r.split for r in sel} == {"train"}
    assert all(r.meta["low_detail"] == 0 for r in sel) and f"kept {len(sel)} of" in out

    out = feint("merge", "-o", tmp_path / "mix", tmp_path / "coco", "--synthetic", render_dir)
    assert "(coco): 27 images" in out and "real 24, synthetic 3" in out

    out = feint("stats", tmp_path / "mix", "--json", tmp_path / "stats.json")
    assert "27 images, 3 classes" in out
    assert json.loads((tmp_path / "stats.json").read_text())["per_source"] == {"real": 24, "synthetic": 3}

    out = feint("preview", tmp_path / "mix", "-o", tmp_path / "grid.png", "-n", "5")
    assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "5 of 27" in out


def test_errors_are_one_line_on_stderr(tmp_path):
    command = [sys.executable, "-m", "feint.cli", "data", "stats", str(tmp_path / "nope")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    expected = f"feint: error: {tmp_path / 'nope'}: no such file or folder"
    assert result.stderr.strip().splitlines() == [expected]


@pytest.mark.realdata
def test_commands_on_ships_dev(real_data, tmp_path):
    src = real_data / "ships-dev"
    out = feint("split", src, "-o", tmp_path / "split", "--seed", "0")
    assert "(manifest): 1819 images; 10 classes" in out
    out = feint("select", src, "-o", tmp_path / "sel", "--where", "masked_cutout=0")
    assert "(manifest): 1716 images" in out
