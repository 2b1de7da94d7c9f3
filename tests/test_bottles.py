"""The bottles channel: procedural bottles and sets, the graph, the sampler's packing, and a small render
whose COCO boxes and masks are checked bottle by bottle."""

import json
import math

import numpy as np
import pytest
import yaml
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from feint.assets import build_asset
from feint.assets.bottles import get_bottle_builder, list_bottle_classes
from feint.assets.bottles.sets import (
    KINDS,
    SET_BUILDERS,
    SURFACE_COLORS,
    prop,
    sample_prop,
    sample_set,
    support,
)
from feint.assets.mesh import PART_INDEX, PARTS
from feint.errors import FeintError
from feint.graph import BottlesGraph, load_graph
from feint.render.dataset import render_dataset
from feint.render.job import RenderJob
from feint.scene.bottles import kelvin_rgb
from feint.scene.sampler import make_sampler

CLASSES = ("beer", "plastic", "soda", "water", "wine")
#: Height range (m) of each class, cap included.
HEIGHTS = {
    "beer": (0.17, 0.27),
    "plastic": (0.15, 0.33),
    "soda": (0.24, 0.37),
    "water": (0.19, 0.36),
    "wine": (0.28, 0.37),
}
CASES = [(name, variant) for name in CLASSES for variant in get_bottle_builder(name).variants]


def _signed_volume(vertices: np.ndarray, faces: list[tuple[int, ...]]) -> float:
    """Volume enclosed by closed shells; positive when faces wind counter-clockwise seen from outside."""
    total = 0.0
    for f in faces:
        p = vertices[list(f)]
        for k in range(1, len(f) - 1):
            total += float(np.dot(p[0], np.cross(p[k], p[k + 1])))
    return total / 6


def test_five_classes_registered():
    assert tuple(list_bottle_classes()) == CLASSES
    assert all(len(get_bottle_builder(name).variants) >= 3 for name in CLASSES)


@pytest.mark.parametrize("name, variant", CASES)
def test_variant_builds_a_sane_bottle(name, variant):
    builder = get_bottle_builder(name)
    for seed in (0, 1, 2):
        params = builder.sample(np.random.default_rng(seed), variant)
        assert params["variant"] == variant and json.loads(json.dumps(params)) == params
        params["dent"] = 0.8  # crushed: only PET and HDPE change, and stay sane
        mesh = builder.build(params)
        n = len(mesh.faces)
        assert 0 < n < 8000 and np.isfinite(mesh.vertices).all()
        assert ((mesh.face_colors >= 0) & (mesh.face_colors <= 1)).all()
        assert ((mesh.face_parts >= 0) & (mesh.face_parts < len(PARTS))).all()
        lo, hi = mesh.bounds
        low, high = HEIGHTS[name]
        assert low <= hi[2] <= high, f"{name}/{variant} seed {seed}: height {hi[2]:.3f}"
        assert abs(lo[2]) < 1e-9, "the base sits on z = 0"
        assert 0.04 < hi[0] - lo[0] < 0.12 and 0.04 < hi[1] - lo[1] < 0.12
        assert np.abs(lo[:2] + hi[:2]).max() < 0.01, "the axis is the z axis"
        assert _signed_volume(mesh.vertices, mesh.faces) > 0, "faces point outwards"
        parts = {PARTS[i] for i in np.unique(mesh.face_parts)}
        assert "label" in parts
        body = {"beer": "glass", "wine": "glass", "soda": "pet", "water": "pet", "plastic": "plastic"}[name]
        assert body in parts
        assert ("liquid" in parts) == (name != "plastic")


def test_an_empty_bottle_has_no_liquid():
    params = get_bottle_builder("beer").sample(np.random.default_rng(0), None)
    mesh = get_bottle_builder("beer").build({**params, "fill": 0.0})
    assert PART_INDEX["liquid"] not in mesh.face_parts


@pytest.mark.parametrize("kind", KINDS)
def test_sets_build_and_hold_their_bottles(kind):
    rng = np.random.default_rng(3)
    colors = {"surface": next(iter(SURFACE_COLORS[kind])), "wall": "white", "floor": "tiles"}
    params = sample_set(kind, rng, colors, 1.0, {"height": 0.33, "radius": 0.045, "count": 9})
    assert json.loads(json.dumps(params)) == params
    mesh = SET_BUILDERS[kind](params)
    assert len(mesh.faces) > 0 and np.isfinite(mesh.vertices).all()
    where = support(params)
    assert where.x0 < where.x1 and where.y0 < where.y1
    assert len(where.cells) >= 9 if kind == "crate" else not where.cells
    for _ in range(5):
        p = sample_prop(rng)
        assert prop(p).bounds[1][2] == pytest.approx(p["height"], rel=0.01)


def test_kelvin_runs_from_warm_to_cool():
    warm, cool = kelvin_rgb(2800), kelvin_rgb(8000)
    assert max(warm) == pytest.approx(1) and max(cool) == pytest.approx(1)
    assert warm[0] > warm[2] and cool[2] > cool[0]


def test_graph_validates_round_trips_and_names_bad_values(tmp_path):
    g = load_graph("bottles")
    assert isinstance(g, BottlesGraph) and g.class_names() == list(CLASSES)
    dump = tmp_path / "dump.yaml"
    dump.write_text(yaml.safe_dump(g.to_yaml(), sort_keys=False))
    assert load_graph(dump) == g
    for text, expected in [
        (
            "extends: bottles\nsurface:\n  table: {choice: [oak, mahogany]}\n",
            ":3: surface.table: unknown value mahogany",
        ),
        ("extends: bottles\nclasses:\n  cider: {weight: 1}\n", ":3: classes.cider: unknown class"),
        ("extends: bottles\nscene:\n  count: {randint: [0, 4]}\n", ":3: scene.count:"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(FeintError, match=expected):
            load_graph(bad)


def test_sampler_is_deterministic_and_packs_without_overlap():
    g = load_graph("bottles")
    a, b = make_sampler(g, 7, 96), make_sampler(g, 7, 96)
    assert [a.sample(i).params for i in range(4)] == [b.sample(i).params for i in reversed(range(4))][::-1]
    several = 0
    for i in range(30):
        desc = a.sample(i)
        bottles = desc.labelled
        assert desc.sea is None and desc.studio is not None
        assert [o.pass_index for o in bottles] == list(range(1, len(bottles) + 1))
        assert len(bottles) == desc.params["bottles.count"] >= 1
        several += len(bottles) > 1
        standing = [o for o in bottles if o.pose.pitch == 0]
        radius = [
            float(np.abs(np.concatenate(build_asset(o.asset).bounds)[[0, 1, 3, 4]]).max()) for o in standing
        ]
        for j in range(len(standing)):
            for k in range(j + 1, len(standing)):
                gap = math.hypot(
                    standing[j].pose.x - standing[k].pose.x, standing[j].pose.y - standing[k].pose.y
                )
                assert gap >= radius[j] + radius[k], f"image {i}: bottles {j} and {k} intersect"
    assert several >= 15


def test_graph_commands_show_and_sample_bottles(capsys):
    from feint.cli.graph import sample, show

    show("bottles")
    assert "surface.kind" in capsys.readouterr().out
    sample("bottles", n=1, seed=0, start=0, size=96)
    assert '"bottles.count"' in capsys.readouterr().out


@pytest.fixture(scope="module")
def six_images(tmp_path_factory):
    out = tmp_path_factory.mktemp("bottles") / "ds"
    render_dataset(RenderJob(load_graph("bottles"), 6, out, size=96, seed=2), progress=False)
    return out


@pytest.mark.blender
def test_bottles_render_with_valid_coco(six_images):
    render = load_graph("bottles").render
    min_px = render.min_visible_px.sample(np.random.default_rng(0))
    min_share = render.min_visible_fraction.sample(np.random.default_rng(0))
    coco = COCO(str(six_images / "annotations.json"))
    assert [c["name"] for c in coco.dataset["categories"]] == list(CLASSES)
    assert [c["id"] for c in coco.dataset["categories"]] == [1, 2, 3, 4, 5]
    assert sorted(coco.getImgIds()) == list(range(1, 7))
    counts, shares = [], []
    for img_id in coco.getImgIds():
        info = coco.imgs[img_id]
        with Image.open(six_images / info["file_name"]) as im:
            assert im.size == (info["width"], info["height"]) == (96, 72)
        anns = coco.imgToAnns[img_id]
        counts.append(len(anns))
        for a in anns:
            m = mask_utils.decode(a["segmentation"])
            ys, xs = np.nonzero(m)
            x, y, w, h = a["bbox"]
            assert w > 0 and h > 0
            assert (xs.min(), ys.min(), xs.max() + 1 - x, ys.max() + 1 - y) == (x, y, w, h)
            assert a["area"] == m.sum() >= min_px
            assert min_share <= a["visibility"] <= 1
            shares.append(a["visibility"])
    assert min(counts) >= 1 and max(counts) > 1
    # The projected hull a little over the bottle's silhouette: a bottle nothing hides shows most of it,
    # never all (a wrong projection scale would put the best above 1, capped, or far below).
    assert 0.85 < max(shares) < 1
    card = json.loads((six_images / "dataset.json").read_text())
    assert sum(card["per_class"].values()) == sum(counts)
    assert Image.open(six_images / "preview.png").size[0] > 0


@pytest.mark.blender
def test_same_bytes_with_two_workers(six_images, tmp_path):
    """A worker's Blender scene carries no state from one image to the next (lamps, slots, sun)."""
    two = tmp_path / "two"
    render_dataset(RenderJob(load_graph("bottles"), 6, two, size=96, seed=2, workers=2), progress=False)
    for name in ["annotations.json", *(f"images/{i:06d}.jpg" for i in range(6))]:
        assert (two / name).read_bytes() == (six_images / name).read_bytes(), name
