"""The render cache of studies, tuning and ablations: a render folder per class, so any subset of the classes
of one graph, seed and size reuses what was rendered for any other, and more renders per class extend a
folder exactly. Images rendered are counted by their records (one per image tried, failed ones too)."""

import json
from pathlib import Path

import pandas as pd
import pytest

from feint.graph.loader import load_graph_dict
from feint.studies.data import class_seed, first_per_class, render_balanced

SIZE, WORKERS = 64, 2
A, B, C = "sailboat", "submarine", "tug"


def _render(cache: Path, classes: list[str], per_class: int) -> list[Path]:
    merged, _ = load_graph_dict("marine")
    return render_balanced(merged, classes, per_class, SIZE, 0, cache, WORKERS, progress=False)


def _rendered(cache: Path) -> dict[str, int]:
    """Every image rendered into the cache (its record) with its modification time."""
    return {str(p): p.stat().st_mtime_ns for p in cache.glob("renders/*/records/*.json")}


def _synthetic_set(folders: list[Path], classes: list[str], per_class: int) -> list[tuple[str, bytes]]:
    """A study's synthetic set as its classes and image bytes."""
    return [(r.primary_class, r.image.read_bytes()) for r in first_per_class(folders, classes, per_class)]


def test_class_seeds_are_stable_and_differ_between_classes():
    assert class_seed(0, A) == class_seed(0, A) != class_seed(0, B)
    assert class_seed(0, A) != class_seed(1, A)
    assert class_seed(0, "tug") == 1369872777  # a stable hash: the same in every process and run


@pytest.mark.blender
def test_a_subset_of_classes_renders_nothing_new(tmp_path):
    folders = _render(tmp_path, [A, B, C], 3)
    before = _rendered(tmp_path)
    assert len(before) >= 9 and len({f.name for f in folders}) == 3
    assert _render(tmp_path, [A, B], 3) == folders[:2]
    assert _render(tmp_path, [C, A], 2) == [folders[2], folders[0]]  # fewer, in another order
    assert _rendered(tmp_path) == before  # nothing rendered, nothing written again

    # each folder renders one class with its own seed, recorded in the folder: no image of one class
    # shares its sky and sea with the image of the same index of another
    for folder, name in zip(folders, [A, B, C], strict=True):
        assert json.loads((folder / "render.json").read_text())["seed"] == class_seed(0, name)
        assert set(pd.read_parquet(folder / "params.parquet")["class"]) == {name}
    suns = [pd.read_parquet(f / "params.parquet").set_index("index")["sky.sun_elevation"] for f in folders]
    assert not (suns[0] == suns[1]).any()


@pytest.mark.blender
def test_more_classes_render_only_the_new_one(tmp_path):
    first = _render(tmp_path, [A, B], 3)
    before = _rendered(tmp_path)
    folders = _render(tmp_path, [A, B, C], 3)
    assert folders[:2] == first
    after = _rendered(tmp_path)
    new = set(after) - set(before)
    assert {after[p] for p in before} == set(before.values())  # the old images untouched
    assert len(new) >= 3 and all(p.startswith(str(folders[2])) for p in new)  # only the new class


@pytest.mark.blender
def test_more_renders_per_class_extend_a_folder_exactly(tmp_path):
    small = _render(tmp_path / "grown", [A], 2)
    kept = _rendered(tmp_path / "grown")
    grown = _render(tmp_path / "grown", [A], 5)
    direct = _render(tmp_path / "direct", [A], 5)
    assert grown == small and grown[0].name == direct[0].name  # the same key in any cache
    assert all(_rendered(tmp_path / "grown")[p] == t for p, t in kept.items())  # extended, not redone
    assert _synthetic_set(small, [A], 2) == _synthetic_set(direct, [A], 2)  # byte for byte
    assert _synthetic_set(grown, [A], 5) == _synthetic_set(direct, [A], 5)


@pytest.mark.blender
def test_a_studys_synthetic_set_does_not_depend_on_the_order_studies_ran_in(tmp_path):
    small, big = ([B, A], 2), ([A, B, C], 3)
    first = _synthetic_set(_render(tmp_path / "small_first", *small), *small)
    _render(tmp_path / "small_first", *big)
    again = _synthetic_set(_render(tmp_path / "small_first", *small), *small)  # its folders extended
    _render(tmp_path / "big_first", *big)
    after_big = _synthetic_set(_render(tmp_path / "big_first", *small), *small)
    assert first == again == after_big
    assert [name for name, _ in first] == [B, B, A, A]  # class after class, in the study's order
