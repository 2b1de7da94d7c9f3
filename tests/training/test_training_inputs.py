"""Wrong inputs to `feint train` / `eval` / `predict` are refused (or warned about), never silently used:
the test split trained on by default, validation on training images or groups, one class, unlabelled data,
a resumed run whose data changed, a device this machine lacks, and bad numbers in the options."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image
from training_helpers import COLOURS, feint, make_images, make_manifest

from feint.errors import FeintError
from feint.training.data import training_sets
from feint.training.run import TrainConfig, train


def one_error_line(code: int, out: str, err: str) -> str:
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feint: error: "), err
    return lines[0]


def manifest(root: Path, rows: list[str], header: str = "file,class,group,split") -> Path:
    """A manifest over make_images' files (images/<colour>/<colour>-<i>.png, 8 per colour)."""
    if not (root / "images").is_dir():
        make_images(root / "images")
    (root / "manifest.csv").write_text("\n".join([header, *rows]) + "\n")
    return root


def split_rows(val_group_shared: bool = False) -> list[str]:
    """Each colour: images 0-5 train (groups g0-g2), 6-7 val (group g3, or g2 when shared)."""
    rows = []
    for c in COLOURS:
        for i in range(8):
            split = "train" if i < 6 else "val"
            group = f"{c}-g{min(i // 2, 3)}" if not (val_group_shared and i == 7) else f"{c}-g2"
            rows.append(f"images/{c}/{c}-{i}.png,{c},{group},{split}")
    return rows


def fast(data: list[Any], out: Path, **kw: Any) -> TrainConfig:
    """A frozen 1-epoch run at 32 px: seconds."""
    base: dict[str, Any] = dict(
        data=[str(d) for d in data],
        out=str(out),
        mode="frozen",
        epochs=1,
        size=32,
        batch=8,
        val=0.0,
        progress=False,
    )
    return TrainConfig(**{**base, **kw})


# --- 1. the split trained on -------------------------------------------------------------------------


def test_without_split_data_with_splits_trains_on_its_train_split_and_says_so(
    colours: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    notes: list[tuple[str, str]] = []
    train_set, held = training_sets([colours], val=0.0, notes=notes)
    assert len(train_set) == 3 * 12  # train/ only: not the 3 * 4 images of val/
    assert all("/train/" in str(p) for p in train_set.paths) and held is None
    assert notes == [
        ("note", f"no --split given: training on the 'train' split of {colours} (its splits: train, val)")
    ]

    out = tmp_path / "run"
    code, stdout, err = feint(
        monkeypatch,
        capsys,
        "train",
        colours,
        "-o",
        out,
        "--mode",
        "frozen",
        "--epochs",
        "1",
        "--size",
        "32",
        "--val-split",
        "val",
        "-q",
    )
    assert code == 0, err
    assert (
        err.strip() == f"feint: note: no --split given: training on the 'train' split of {colours} "
        "(its splits: train, val)"
    )
    record = json.loads((out / "run.json").read_text())
    assert record["data"]["train"] == 36 and record["data"]["val"] == 12


def test_data_with_splits_but_no_train_split_needs_split(tmp_path: Path) -> None:
    root = tmp_path / "data"
    make_images(root / "val", per_class=2)
    make_images(root / "test", per_class=2, seed=1)
    with pytest.raises(
        FeintError,
        match=re.escape(
            f"{root}: the data has splits (val, test) but none named 'train'; say which split to train on "
            "with --split"
        ),
    ):
        training_sets([root], val=0.0)
    train_set, _ = training_sets([root], split="val", val=0.0)
    assert len(train_set) == 6 and all("/val/" in str(p) for p in train_set.paths)


def test_renders_without_splits_are_still_used_whole_next_to_a_default_train_split(
    colours: Path, tmp_path: Path
) -> None:
    renders = make_images(tmp_path / "renders", per_class=2, seed=3)
    notes: list[tuple[str, str]] = []
    train_set, _ = training_sets([colours, renders], val=0.0, notes=notes)
    assert len(train_set) == 36 + 6
    assert len(notes) == 1 and str(colours) in notes[0][1]  # only the input with splits gets a note


# --- 2. validation on training images ----------------------------------------------------------------


def test_val_split_equal_to_the_training_split_is_refused(colours: Path) -> None:
    message = re.escape(
        f"--val-split train: that is the split trained on; validate on another split of "
        f"{colours} (train, val), or hold out a fraction of the training groups with --val"
    )
    with pytest.raises(FeintError, match=message):
        training_sets([colours], val_split="train")  # the default training split
    with pytest.raises(FeintError, match="--val-split val: that is the split trained on"):
        training_sets([colours], split="val", val_split="val")


def test_val_split_sharing_a_group_with_training_is_refused(tmp_path: Path) -> None:
    disjoint = manifest(tmp_path / "ok", split_rows())
    train_set, held = training_sets([disjoint], val_split="val")
    assert held is not None and len(held) == 6 and len(train_set) == 18

    leaky = manifest(tmp_path / "leaky", split_rows(val_group_shared=True))
    message = (
        r"--val-split val: 3 of its groups have training images too \(e\.g\. group 'blue-g2'\): "
        r"validation would score objects trained on; re-split the data by group"
    )
    with pytest.raises(FeintError, match=message):
        training_sets([leaky], val_split="val")


def test_val_split_whose_files_another_input_trains_on_is_refused(colours: Path, tmp_path: Path) -> None:
    links = tmp_path / "links"  # another dataset (no splits) holding the very files of colours/val
    for c in COLOURS:
        (links / c).mkdir(parents=True)
        for i in range(4):
            (links / c / f"copy-{i}.png").symlink_to(colours / "val" / c / f"{c}-{i}.png")
    with pytest.raises(
        FeintError,
        match=r"--val-split val: 12 of its 12 images are training images too "
        r"\(e\.g\. .*val/blue/blue-0\.png\); validate on images the model "
        "does not train on",
    ):
        training_sets([colours, links], val_split="val")


# --- 3. one class ------------------------------------------------------------------------------------


def test_a_classifier_needs_two_classes(
    colours: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(
        FeintError, match=re.escape("a classifier needs at least two classes; --classes keeps one (red)")
    ):
        training_sets([colours], classes=["red"], val=0.0)
    only = make_images(tmp_path / "only", per_class=2)
    for c in ("green", "blue"):
        shutil.rmtree(only / c)
    with pytest.raises(
        FeintError, match=re.escape(f"a classifier needs at least two classes; {only} has one (red)")
    ):
        training_sets([only], val=0.0)
    new = tmp_path / "run"
    line = one_error_line(
        *feint(
            monkeypatch, capsys, "train", colours, "-o", new, "--classes", "green", "--split", "train", "-q"
        )
    )
    assert line == "feint: error: a classifier needs at least two classes; --classes keeps one (green)"
    assert not new.exists()


# --- 4. unlabelled data ------------------------------------------------------------------------------


def test_a_manifest_without_classes_loads_but_is_refused_for_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from feint.datasets import load_dataset

    rows = [f"images/{c}/{c}-{i}.png,{c}-g{i}" for c in COLOURS for i in range(8)]
    data = manifest(tmp_path / "unlabelled", rows, header="file,group")
    assert len(load_dataset(data)) == 24  # stats, preview, convert: fine
    assert feint(monkeypatch, capsys, "data", "stats", data)[0] == 0
    message = (
        f"{data}: the data has no class labels (its manifest has no 'class' column, or it is "
        "empty); a classifier needs a class per image"
    )
    with pytest.raises(FeintError, match=re.escape(message)):
        training_sets([data], val=0.0)
    line = one_error_line(*feint(monkeypatch, capsys, "train", data, "-o", tmp_path / "run", "-q"))
    assert line == f"feint: error: {message}"


def test_images_without_a_class_are_left_out_with_a_warning(tmp_path: Path) -> None:
    rows = [f"images/{c}/{c}-{i}.png,{c if i else ''},{c}-g{i}" for c in COLOURS for i in range(8)]
    data = manifest(tmp_path / "partly", rows, header="file,class,group")
    notes: list[tuple[str, str]] = []
    train_set, _ = training_sets([data], val=0.0, notes=notes)
    assert len(train_set) == 21
    assert notes == [("warning", f"{data}: 3 of 24 images have no class and are left out")]


# --- 8. --val leaving nothing to train on ------------------------------------------------------------


def test_a_val_fraction_holding_out_every_group_is_refused(
    tiny_manifest: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    message = (
        "--val 0.99: holds out all 12 groups of the training images, leaving none to train on; "
        "lower --val (or 0: no validation)"
    )
    with pytest.raises(FeintError, match=re.escape(message)):
        training_sets([tiny_manifest], val=0.99)
    line = one_error_line(
        *feint(
            monkeypatch,
            capsys,
            "train",
            tiny_manifest,
            "-o",
            tmp_path / "run",
            "--val",
            "0.99",
            "--mode",
            "frozen",
            "-q",
        )
    )
    assert line == f"feint: error: {message}"


def test_validation_that_cannot_happen_is_warned_about(
    tiny_manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes: list[tuple[str, str]] = []
    _, held = training_sets([tiny_manifest], val=0.1, notes=notes)  # 4 groups per class: none held out
    assert held is None
    assert notes == [
        ("warning", "--val 0.1: 12 groups are too few to hold any out: no validation, the last epoch is kept")
    ]
    capsys.readouterr()
    train(fast([tiny_manifest], tmp_path / "run", patience=2))
    assert capsys.readouterr().err == "feint: warning: --patience 2 has no effect without validation images\n"


# --- 6. resuming on other data -----------------------------------------------------------------------


def test_resuming_refuses_data_or_classes_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = make_manifest(tmp_path / "data")
    out = tmp_path / "run"
    cfg = fast([data], out)
    first = train(cfg)
    assert len(first["data"]["fingerprint"]) == 64
    assert train(cfg, resume=True)["data"] == first["data"]  # the same data: resumes (here: finished)

    original = (data / "manifest.csv").read_text()
    where = re.escape(f"{out}: cannot resume: the data changed since the run began")
    # a relabelled image
    (data / "manifest.csv").write_text(original.replace("red/red-3.png,red", "red/red-3.png,green"))
    with pytest.raises(
        FeintError,
        match=where + r" \(1 image with another class, e\.g\. .*red-3\.png: "
        r"was 'red', now 'green'\); start a new run",
    ):
        train(cfg, resume=True)
    # an image gone
    (data / "manifest.csv").write_text(
        "".join(line + "\n" for line in original.splitlines() if "blue-5.png" not in line)
    )
    with pytest.raises(FeintError, match=where + r" \(1 image gone, e\.g\. .*blue-5\.png\)"):
        train(cfg, resume=True)
    # another image under the same name (a redone render, say)
    (data / "manifest.csv").write_text(original)
    Image.new("RGB", (40, 32), (5, 5, 5)).save(data / "images" / "green" / "green-1.png")
    with pytest.raises(
        FeintError,
        match=where + r" \(the same file names and classes, but other file "
        r"contents\)",
    ):
        train(cfg, resume=True)
    # the classes in another order (classes.txt): every label index moves
    make_images(data / "images")  # the images as they were
    assert train(cfg, resume=True)["status"] == "done"
    (data / "classes.txt").write_text("red\ngreen\nblue\n")
    with pytest.raises(
        FeintError,
        match=re.escape(
            f"{out}: cannot resume: the classes changed (were blue, green, red; now red, green, blue)"
        ),
    ):
        train(cfg, resume=True)
    # through the command line: one line, exit 2
    (data / "classes.txt").unlink()
    (data / "manifest.csv").write_text(original.replace(",red,", ",green,", 1))
    line = one_error_line(
        *feint(
            monkeypatch,
            capsys,
            "train",
            data,
            "-o",
            out,
            "--mode",
            "frozen",
            "--epochs",
            "1",
            "--size",
            "32",
            "--batch",
            "8",
            "--val",
            "0",
            "--resume",
            "-q",
        )
    )
    assert line.startswith(
        f"feint: error: {out}: cannot resume: the data changed since the run began "
        "(1 image with another class"
    )


# --- 7. devices --------------------------------------------------------------------------------------


def test_resolve_device_accepts_cpu_and_refuses_what_is_not_there() -> None:
    from feint.training.device import resolve_device

    assert resolve_device("cpu") == resolve_device(" CPU ") == "cpu"
    with pytest.raises(
        FeintError,
        match=re.escape(
            "--device 'gpu0': not a device; expected auto, cpu, cuda, cuda:N (N counts from 0) or mps"
        ),
    ):
        resolve_device("gpu0")
    with pytest.raises(FeintError, match="--device cuda:99: this machine has "):
        resolve_device("cuda:99")
    if not torch.cuda.is_available():
        with pytest.raises(
            FeintError,
            match=r"--device cuda: this machine has no CUDA device \(.*\); use "
            "--device cpu",
        ):
            resolve_device("cuda")


NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


@pytest.mark.parametrize("device", [pytest.param("cuda", marks=NO_CUDA), "cuda:99", "gpu0"])
def test_every_command_refuses_a_device_that_is_not_there(
    device: str,
    colours: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = colours / "val" / "red" / "red-0.png"
    commands = [
        ("train", colours, "-o", tmp_path / "run", "--split", "train", "-q"),
        ("eval", tmp_path / "run", colours, "-q"),
        ("predict", tmp_path / "run", image),
        ("detect", "train", colours, "-o", tmp_path / "det", "-q"),
        ("detect", "predict", tmp_path / "det", image),
        ("detect", "eval", tmp_path / "det", colours),
    ]
    for command in commands:
        line = one_error_line(*feint(monkeypatch, capsys, *command, "--device", device))
        assert line.startswith(
            f"feint: error: --device {device!r}: not a device"
            if device == "gpu0"
            else f"feint: error: --device {device}: this machine has "
        ), (command, line)
    assert not (tmp_path / "run").exists() and not (tmp_path / "det").exists()


# --- 8. numbers in the options -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "option, value, says",
    [
        ("--seed", "-1", "greater than or equal to 0"),
        ("--seed", str(2**32), "less than or equal to 4294967295"),
        ("--seed", str(10**30), "less than or equal to"),
        ("--batch", "0", "greater than or equal to 1"),
        ("--epochs", "0", "greater than or equal to 1"),
        ("--epochs", str(10**12), "less than or equal to"),
        ("--size", "0", "greater than or equal to 16"),
        ("--lr", "nan", "finite number"),
        ("--lr", "inf", "finite number"),
        ("--val", "inf", "finite number"),
        ("--val", "nan", "finite number"),
        ("--dropout", "nan", "finite number"),
        ("--warmup", "nan", "finite number"),
        ("--weight-decay", "inf", "finite number"),
        ("--patience", "0", "greater than or equal to 1"),
        ("--hidden", "-1", "greater than or equal to 0"),
        ("--mix", "real=inf", "finite number"),
    ],
)
def test_train_refuses_bad_numbers_in_one_line(
    option: str,
    value: str,
    says: str,
    tiny: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = one_error_line(
        *feint(monkeypatch, capsys, "train", tiny, "-o", tmp_path / "run", option, value, "-q")
    )
    assert line.startswith(f"feint: error: {option}: ") and says in line, line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "command, option, value",
    [
        ("eval", "--seed", "-1"),
        ("eval", "--seed", str(2**40)),
        ("eval", "--bootstrap", str(10**9)),
        ("detect eval", "--batch", str(10**9)),
        ("detect predict", "--conf", "nan"),
        ("detect predict", "--conf", "inf"),
        ("detect train", "--seed", "-5"),
        ("detect train", "--lr", "nan"),
        ("detect train", "--warmup", "inf"),
        ("detect train", "--weight-decay", "nan"),
        ("detect train", "--batch", str(10**9)),
    ],
)
def test_eval_predict_and_detect_refuse_bad_numbers_in_one_line(
    command: str,
    option: str,
    value: str,
    tiny: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args: dict[str, tuple[Any, ...]] = {
        "eval": ("eval", tmp_path / "run", tiny),
        "detect eval": ("detect", "eval", tmp_path / "run", tiny),
        "detect predict": ("detect", "predict", tmp_path / "run", tiny),
        "detect train": ("detect", "train", tiny, "-o", tmp_path / "run", "-q"),
    }
    code, out, err = feint(monkeypatch, capsys, *args[command], option, value)
    line = one_error_line(code, out, err)
    # an option typer checks itself (--conf: min and max) is named in click's words, in the same one line
    assert line.startswith(f"feint: error: {option}: ") or f"Invalid value for '{option}'" in line, err
    assert not (tmp_path / "run").exists()
