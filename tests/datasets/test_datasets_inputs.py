"""An image listed twice is refused at load (manifest, COCO, YOLO lists), YOLO lists that partly overlap
are read without splits with a warning, and a split that leaves a class out of some split warns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from datasets_helpers import make_image, write_coco

from feint.cli import main
from feint.datasets import load_dataset
from feint.datasets.split import split_dataset
from feint.errors import FeintError


def _manifest(root: Path, rows: list[str], header: str = "file,class") -> Path:
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        make_image(root / "img" / name)
    (root / "manifest.csv").write_text("\n".join([header, *rows]) + "\n")
    return root


@pytest.mark.parametrize(
    "rows, line, first, label",
    [
        (["img/a.jpg,cat", "img/b.jpg,dog", "img/a.jpg,dog"], 4, 2, "as class 'cat'"),  # two labels
        (["img/a.jpg,cat", "img/a.jpg,cat"], 3, 2, "as class 'cat'"),  # a repeated row
        (["img/b.jpg,", "img/c.jpg,dog", "./img/b.jpg,dog"], 4, 2, "without a class"),  # spelt otherwise
    ],
)
def test_a_manifest_listing_a_file_twice_is_refused(
    tmp_path: Path, rows: list[str], line: int, first: int, label: str
) -> None:
    data = _manifest(tmp_path / "m", rows)
    name = rows[line - 2].split(",")[0]
    with pytest.raises(
        FeintError,
        match=re.escape(
            f"{data / 'manifest.csv'}: line {line}: file {name!r} is already listed at line {first} ({label})"
        ),
    ):
        load_dataset(data)


def test_a_manifest_without_a_class_column_still_loads(tmp_path: Path) -> None:
    data = _manifest(tmp_path / "m", ["img/a.jpg,g1", "img/b.jpg,g2"], header="file,group")
    dataset = load_dataset(data)
    assert len(dataset) == 2 and dataset.classes == []


def test_coco_listing_a_file_twice_is_refused(tmp_path: Path) -> None:
    make_image(tmp_path / "c" / "a.jpg")
    make_image(tmp_path / "c" / "images" / "b.jpg")
    images = [
        {"id": 1, "file_name": "a.jpg"},
        {"id": 2, "file_name": "b.jpg"},
        {"id": 5, "file_name": "./a.jpg"},
    ]
    write_coco(tmp_path / "c", images, [])
    with pytest.raises(
        FeintError,
        match=re.escape(
            f"{tmp_path / 'c' / 'annotations.json'}: images[2] (id 5): file './a.jpg' is already listed at "
            "images[0] (id 1)"
        ),
    ):
        load_dataset(tmp_path / "c")
    images[2]["file_name"] = "images/b.jpg"  # b.jpg is found under images/ either way
    write_coco(tmp_path / "c", images, [])
    with pytest.raises(
        FeintError,
        match=re.escape("images[2] (id 5): file 'images/b.jpg' is already listed at images[1] (id 2)"),
    ):
        load_dataset(tmp_path / "c")


def _yolo(root: Path, lists: dict[str, list[str]]) -> Path:
    for name in ("a", "b", "c", "d"):
        make_image(root / "images" / f"{name}.jpg")
    config = []
    for split, files in lists.items():
        (root / f"{split}.txt").write_text("".join(f"{f}\n" for f in files))
        config.append(f"{split}: {split}.txt")
    (root / "data.yaml").write_text("\n".join([*config, "names: [boat]"]) + "\n")
    return root


def test_a_yolo_list_naming_an_image_twice_is_refused(tmp_path: Path) -> None:
    data = _yolo(
        tmp_path / "y",
        {"train": ["./images/a.jpg", "./images/b.jpg", "images/a.jpg"], "val": ["./images/c.jpg"]},
    )
    with pytest.raises(
        FeintError,
        match=re.escape(
            f"{data / 'train.txt'}: line 3: file 'images/a.jpg' is already listed at line 1 of train.txt"
        ),
    ):
        load_dataset(data)


def test_yolo_lists_of_the_same_images_mean_no_split_and_partly_shared_ones_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = _yolo(
        tmp_path / "same",
        {"train": ["./images/a.jpg", "./images/b.jpg"], "val": ["./images/b.jpg", "images/a.jpg"]},
    )
    assert load_dataset(same).splits == []  # typesofships' way of saying "no split"
    assert capsys.readouterr().err == ""

    partly = _yolo(
        tmp_path / "partly",
        {
            "train": ["./images/a.jpg", "./images/b.jpg", "./images/c.jpg"],
            "test": ["./images/c.jpg", "./images/d.jpg"],
        },
    )
    dataset = load_dataset(partly)
    assert dataset.splits == [] and len(dataset) == 4
    err = capsys.readouterr().err
    assert err == (
        f"feint: warning: {partly / 'data.yaml'}: some images are in more than one of train, test "
        f"(e.g. {partly / 'images' / 'c.jpg'}), others in one: the dataset is read without "
        "splits\n"
    )

    disjoint = _yolo(
        tmp_path / "disjoint", {"train": ["./images/a.jpg", "./images/b.jpg"], "val": ["./images/c.jpg"]}
    )
    assert load_dataset(disjoint).splits == ["train", "val"] and capsys.readouterr().err == ""


def _grouped(root: Path) -> Path:
    """cat: 12 groups of one image; emu: one group of 3 images."""
    lines = ["file,class,group"]
    for k in range(12):
        make_image(root / f"cat{k}.jpg", (8, 8), k)
        lines.append(f"cat{k}.jpg,cat,c{k}")
    for k in range(3):
        make_image(root / f"emu{k}.jpg", (8, 8), 100 + k)
        lines.append(f"emu{k}.jpg,emu,the-emu")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root


def test_a_class_too_small_for_every_split_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = load_dataset(_grouped(tmp_path / "g"))
    result = split_dataset(dataset, [0.6, 0.2, 0.2], seed=0)
    assert {r.split for r in result if r.primary_class == "emu"} == {"train"}  # the split stands
    assert capsys.readouterr().err == (
        "feint: warning: class 'emu' is missing from splits val, test: it "
        "has 1 group, too few to reach every split\n"
    )
    split_dataset(dataset, [0.6, 0.2, 0.2], seed=0, warn=False)
    split_dataset(dataset.filter(lambda r: r.primary_class == "cat"), [0.6, 0.2, 0.2], seed=0)
    assert capsys.readouterr().err == ""  # no warning asked for; every class in every split
    split_dataset(dataset, [1.0, 0.0], seed=0, names=["train", "unused"])
    assert capsys.readouterr().err == ""  # a split of ratio 0 is not missed

    monkeypatch.setattr(
        "sys.argv",
        ["feint", "data", "split", str(tmp_path / "g"), "-o", str(tmp_path / "s"), "--ratios", "0.6,0.2,0.2"],
    )
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    assert "feint: warning: class 'emu' is missing from splits val, test" in capsys.readouterr().err
    assert {r.split for r in load_dataset(tmp_path / "s") if r.primary_class == "emu"} == {"train"}
