"""The output policy (feint.outputs): no command deletes, overwrites or corrupts what it did not create in
that same call. Each data-loss case once seen is here, run through the real entry point."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from PIL import Image

from feint.errors import FeintError
from feint.outputs import Inputs, check_folder_output, folder_output, write_output_card


def photos(folder: Path, n: int = 12) -> Path:
    """A manifest dataset of `n` tiny photos of two classes in n/2 groups (the user's own data)."""
    lines = ["file,class,group"]
    for i in range(n):
        cls = ("cat", "dog")[i % 2]
        name = f"{cls}/p{i:02d}.jpg"
        (folder / cls).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (16, 12), (20 * i, 100, 50)).save(folder / name)
        lines.append(f"{name},{cls},g{i // 2}")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder


def hashes(root: Path) -> dict[str, str]:
    """Every file under `root` (links followed) and its content hash; a dangling link reads as 'dangling'."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink() and not path.exists():
            out[str(path.relative_to(root))] = "dangling"
        elif path.is_file():
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def one_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feint: error: "), err
    return lines[0]


def test_rewriting_an_output_never_breaks_a_dataset_that_links_into_it(feint_cli, tmp_path: Path) -> None:
    """convert A --copy -o S; split S -o S2; select S2 -o S: S2's images are S's files, so S is an input."""
    a, s, s2 = photos(tmp_path / "A"), tmp_path / "S", tmp_path / "S2"
    assert feint_cli("data", "convert", a, "--to", "imagefolder", "--copy", "-o", s)[0] == 0
    assert feint_cli("data", "split", s, "-o", s2, "--ratios", "0.5,0.5", "--names", "train,test")[0] == 0
    before = hashes(s2)
    assert "dangling" not in before.values()
    for extra in ([], ["--overwrite"]):
        code, _, err = feint_cli(
            "data", "select", s2, "--split", "train", "--to", "imagefolder", "-o", s, *extra
        )
        assert "would replace the input file" in one_error(code, err)
        code, _, err = feint_cli("data", "convert", s2, "--to", "manifest", "-o", s, *extra)
        assert "would replace the input file" in one_error(code, err)
    assert hashes(s2) == before


def test_an_earlier_output_is_replaced_only_with_overwrite_and_the_users_files_stay(
    feint_cli, tmp_path: Path
) -> None:
    a, s = photos(tmp_path / "A"), tmp_path / "S"
    assert feint_cli("data", "convert", a, "--to", "coco", "-o", s)[0] == 0
    (s / "notes.txt").write_text("my notes")
    first = hashes(s)
    code, _, err = feint_cli("data", "convert", a, "--to", "coco", "-o", s)
    assert "--overwrite" in one_error(code, err)
    assert hashes(s) == first
    code, _, err = feint_cli("data", "select", a, "--classes", "cat", "--to", "coco", "-o", s, "--overwrite")
    assert code == 0, err
    assert (s / "notes.txt").read_text() == "my notes"
    coco = json.loads((s / "annotations.json").read_text())
    assert [c["name"] for c in coco["categories"]] == ["cat"] and len(coco["images"]) == 6
    card = json.loads((s / "feint-data.json").read_text())
    assert "notes.txt" not in card["written"] and "annotations.json" in card["written"]


def test_a_folder_feint_did_not_write_is_never_replaced(feint_cli, tmp_path: Path) -> None:
    a, mine = photos(tmp_path / "A"), tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    for extra in ([], ["--overwrite"]):
        code, _, err = feint_cli("data", "convert", a, "--to", "coco", "-o", mine, *extra)
        assert "not written by feint" in one_error(code, err)
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]


def test_outputs_inside_an_input_are_refused(feint_cli, tmp_path: Path) -> None:
    a = photos(tmp_path / "A")
    before = hashes(a)
    code, _, err = feint_cli("data", "convert", a, "--to", "imagefolder", "-o", a / "cats")
    assert "lies inside the input" in one_error(code, err)
    code, _, err = feint_cli("data", "convert", a, "--to", "coco", "-o", tmp_path)
    assert "would replace the input" in one_error(code, err)
    assert hashes(a) == before


def test_single_file_outputs_are_new_or_replaced_with_overwrite_never_an_input(
    feint_cli, tmp_path: Path
) -> None:
    a = photos(tmp_path / "A")
    labels = hashes(a)
    grid = tmp_path / "grid.png"
    assert feint_cli("data", "preview", a, "-o", grid, "-n", "4")[0] == 0
    first = grid.read_bytes()
    code, _, err = feint_cli("data", "preview", a, "-o", grid, "-n", "2")
    assert "file exists" in one_error(code, err) and grid.read_bytes() == first
    assert feint_cli("data", "preview", a, "-o", grid, "-n", "2", "--overwrite")[0] == 0
    assert grid.read_bytes() != first
    for command in (("preview", a, "-o"), ("stats", a, "--json")):
        for target in (a / "manifest.csv", a / "cat" / "p00.jpg"):
            code, _, err = feint_cli("data", *command, target, "--overwrite")
            assert "input" in one_error(code, err)
    assert hashes(a) == labels


def test_detect_predict_never_draws_over_the_photos(feint_cli, perfect_detector, tmp_path: Path) -> None:
    """`feint detect predict RUN FOLDER -o FOLDER` once replaced the photos with drawn copies."""
    run, folder = perfect_detector
    before = hashes(folder)
    for out in (folder, folder / "images", folder / "images" / "drawn"):
        code, _, err = feint_cli("detect", "predict", run, folder / "images", "-o", out, "--overwrite")
        assert "input" in one_error(code, err)
    assert hashes(folder) == before


def test_a_kill_between_the_two_renames_brings_the_old_output_back(tmp_path: Path) -> None:
    """A process killed after moving the old output aside and before moving the new one in: the next
    write into the same folder finds the old one where it was."""
    dest = tmp_path / "out"
    with folder_output(dest) as tmp:
        (tmp / "a.txt").write_text("old")
        write_output_card(tmp, "test", {})
    dead = _dead_pid()
    os.replace(dest, tmp_path / f".out.old-{dead}")
    (tmp_path / f".out.tmp-{dead}").mkdir()  # its half-written new output
    with pytest.raises(FeintError, match="--overwrite"):  # the old output is back, so it is not new
        with folder_output(dest) as tmp:
            pass
    assert (dest / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_error_while_writing_leaves_the_earlier_output_as_it_was(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    with folder_output(dest) as tmp:
        (tmp / "a.txt").write_text("first")
        write_output_card(tmp, "test", {})
    with pytest.raises(KeyboardInterrupt):
        with folder_output(dest, overwrite=True) as tmp:
            (tmp / "a.txt").write_text("half")
            raise KeyboardInterrupt
    assert (dest / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_inputs_are_resolved_through_links(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "x.jpg").write_bytes(b"x")
    (tmp_path / "link.jpg").symlink_to(real / "x.jpg")
    with pytest.raises(FeintError, match="would replace the input file"):
        check_folder_output(real, Inputs.of(files=[tmp_path / "link.jpg"]), overwrite=True)


def _dead_pid() -> int:
    """A process id that no process has now."""
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


@pytest.fixture
def perfect_detector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A detector run folder (no training: its detect is replaced by one that finds nothing) and a folder
    of the user's photos."""
    import numpy as np

    from feint.detection import runs as runs_mod
    from feint.detection.runs import Detections, DetectorRun

    folder = tmp_path / "photos"
    for i in range(3):
        (folder / "images").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 30), (60 * i, 10, 10)).save(folder / "images" / f"p{i}.jpg")
    run = DetectorRun(tmp_path / "run", ["bottle"], 64, None)

    def detect(paths, *args, **kw):
        return [Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=int)) for _ in paths]

    monkeypatch.setattr(run, "detect", detect)
    monkeypatch.setattr(runs_mod, "load_detector", lambda path: run)
    return run.path, folder
