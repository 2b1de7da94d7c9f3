"""`feint detect train --init RUN`: a detector continues from another run's weights, classes matched by
name, with that run's pyramid and anchors; a run it cannot continue from is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from detection_helpers import feint, one_error_line

from feint.detection.anchors import Anchors
from feint.detection.folder import load_checkpoint
from feint.detection.init_from_run import BOX_LAYER, CLASS_LAYER, load_init
from feint.detection.models import build_detector
from feint.detection.runs import load_detector
from feint.training.backbones import spec_from_record


@pytest.fixture(scope="module")
def first(shapes: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 96 px run of one epoch with anchors fitted to the shapes (so they differ from the default)."""
    out = tmp_path_factory.mktemp("init") / "first"
    code, _, err = feint(
        "detect", "train", shapes, "-o", out, "--size", "96", "--epochs", "1", "--anchors", "fit", "-q"
    )  # fmt: skip
    assert code == 0, err
    return out


def test_weights_load_by_class_name_and_new_classes_keep_their_own_rows(first: Path) -> None:
    ckpt = load_checkpoint(first / "best.pt")
    assert ckpt["classes"] == ["square", "disc"]
    classes = ["disc", "boat", "square"]  # another order and a class the first run never saw
    torch.manual_seed(1)
    model = build_detector(
        spec_from_record(ckpt["backbone"]), len(classes), 96, "fasterrcnn", pretrained=False,
        anchors=Anchors.from_record(ckpt["anchors"]),
    )  # fmt: skip
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    words = load_init(model, ckpt, classes)
    assert "2/3 classes" in words
    own, theirs = model.state_dict(), ckpt["state"]
    backbone = [k for k in own if k.startswith("backbone.")]
    assert backbone and all(torch.equal(own[k], theirs[k]) for k in backbone)
    assert torch.equal(own["rpn.head.conv.0.0.weight"], theirs["rpn.head.conv.0.0.weight"])
    for layer, rows in ((CLASS_LAYER, 1), (BOX_LAYER, 4)):
        mine, other = own[layer + "weight"], theirs[layer + "weight"]

        def block(t: torch.Tensor, i: int, rows: int = rows) -> torch.Tensor:
            """The rows of class slot i (0: background)."""
            return t[i * rows : (i + 1) * rows]

        assert torch.equal(block(mine, 0), block(other, 0))  # background
        assert torch.equal(block(mine, 1), block(other, 2))  # disc: 2nd class there, 1st here
        assert torch.equal(block(mine, 3), block(other, 1))  # square
        assert torch.equal(block(mine, 2), block(fresh[layer + "weight"], 2))  # boat: still its own
        assert not torch.equal(block(mine, 2), block(other, 1))


def test_a_run_from_another_keeps_its_anchors_scaled_and_records_where_it_started(
    shapes: Path, first: Path, tmp_path: Path
) -> None:
    out = tmp_path / "second"
    code, _, err = feint(
        "detect", "train", shapes, "-o", out, "--init", first, "--size", "128", "--epochs", "1", "-q"
    )  # fmt: skip
    assert code == 0, err
    record = json.loads((out / "run.json").read_text())
    assert record["init"]["run"] == str(first.resolve()) and record["init"]["epoch"] == 1
    assert "backbone" in record["init"]["loaded"]
    theirs = json.loads((first / "run.json").read_text())["anchors"]
    expected = [[round(s * 128 / 96, 1) for s in level] for level in theirs["sizes"]]
    assert record["anchors"] == {"sizes": expected, "ratios": theirs["ratios"]}
    assert load_detector(out).model.rpn.anchor_generator.aspect_ratios[0] == tuple(theirs["ratios"])


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--finest-stride", "16"], "give --finest-stride 8"),
        (["--anchors", "fit"], "the anchors come from that run"),
        (["--backbone", "efficientnet_lite0"], "give --backbone mobilenet_v2"),
    ],
)
def test_a_run_that_cannot_continue_the_other_is_one_line(
    shapes: Path, first: Path, tmp_path: Path, options: list[str], says: str
) -> None:
    out = tmp_path / "refused"
    line = one_error_line(*feint("detect", "train", shapes, "-o", out, "--init", first, *options, "-q"))
    assert says in line
    assert not out.exists()  # refused before the run folder was made


def test_init_from_a_folder_that_is_no_run_is_one_line(shapes: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    line = one_error_line(
        *feint("detect", "train", shapes, "-o", tmp_path / "x", "--init", tmp_path / "empty", "-q")
    )
    assert "not a `feint detect train` run" in line


def test_the_run_started_from_is_an_input_nothing_is_written_into(shapes: Path, first: Path) -> None:
    line = one_error_line(*feint("detect", "train", shapes, "-o", first / "next", "--init", first, "-q"))
    assert "inside the input" in line
    assert not (first / "next").exists()
