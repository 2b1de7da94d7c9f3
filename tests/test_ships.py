"""Procedural ship classes: every variant samples JSON-able params and builds a sane, deterministic mesh."""

import json
import time

import numpy as np
import pytest

from feint.assets.mesh import PARTS
from feint.assets.ships import get_ship_builder, list_ship_classes
from feint.assets.ships.geometry import ShapeBuilder, boxes, ellipsoid, lathe, prism, rounded_rect
from feint.assets.ships.hull import Hull, HullPaint, HullSpec

CLASSES = (
    "aircraft_carrier",
    "bulkers",
    "car_carrier",
    "container_ship",
    "cruise",
    "ddg",
    "recreational",
    "sailboat",
    "submarine",
    "tug",
)
#: Realistic overall length (bounding box along x), metres, with a little slack for bowsprits and bulbs.
LENGTHS = {
    "aircraft_carrier": (175, 335),
    "bulkers": (115, 305),
    "car_carrier": (135, 235),
    "container_ship": (145, 405),
    "cruise": (145, 365),
    "ddg": (115, 175),
    "recreational": (4.5, 41),
    "sailboat": (5.5, 65),
    "submarine": (58, 172),
    "tug": (19, 42),
}
SEEDS = (0, 1, 2)
CASES = [(name, variant) for name in CLASSES for variant in get_ship_builder(name).variants]


def _signed_volume(vertices: np.ndarray, faces: list[tuple[int, ...]]) -> float:
    """Volume enclosed by a closed mesh; positive when faces wind counter-clockwise seen from outside."""
    total = 0.0
    for f in faces:
        p = vertices[list(f)]
        for k in range(1, len(f) - 1):
            total += float(np.dot(p[0], np.cross(p[k], p[k + 1])))
    return total / 6


def test_all_classes_registered():
    assert tuple(list_ship_classes()) == CLASSES
    for name in CLASSES:
        assert len(get_ship_builder(name).variants) >= 3


@pytest.mark.parametrize("name, variant", CASES)
def test_variant_builds_sane_mesh(name, variant):
    builder = get_ship_builder(name)
    for seed in SEEDS:
        params = builder.sample(np.random.default_rng(seed), variant)
        assert params["variant"] == variant
        assert json.loads(json.dumps(params)) == params
        mesh = builder.build(params)
        n = len(mesh.faces)
        assert 0 < n < 20_000
        assert mesh.face_colors.shape == (n, 3) and mesh.face_parts.shape == (n,)
        assert np.isfinite(mesh.vertices).all()
        assert ((mesh.face_colors >= 0) & (mesh.face_colors <= 1)).all()
        assert ((mesh.face_parts >= 0) & (mesh.face_parts < len(PARTS))).all()
        assert all(len(f) >= 3 for f in mesh.faces)
        lo, hi = mesh.bounds
        low, high = LENGTHS[name]
        assert low <= hi[0] - lo[0] <= high, f"{name}/{variant} seed {seed}: length {hi[0] - lo[0]:.1f}"
        assert lo[2] < -0.2 and hi[2] > 0.5, "hull must reach below and above the waterline"
        if name != "sailboat":  # a heeled rig leans far to leeward
            assert abs(lo[1] + hi[1]) < 0.5 * (hi[1] - lo[1]), "ship must sit roughly on the centreline"


@pytest.mark.parametrize("name", CLASSES)
def test_build_is_deterministic_and_params_vary(name):
    builder = get_ship_builder(name)
    params = builder.sample(np.random.default_rng(7), None)
    assert params["variant"] in builder.variants
    a, b = builder.build(params), builder.build(json.loads(json.dumps(params)))
    assert a.faces == b.faces
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(a.face_colors, b.face_colors)
    np.testing.assert_array_equal(a.face_parts, b.face_parts)
    assert builder.sample(np.random.default_rng(8), None) != params
    assert builder.sample(np.random.default_rng(7), None) == params


@pytest.mark.parametrize("name", CLASSES)
def test_build_is_fast(name):
    builder = get_ship_builder(name)
    rng = np.random.default_rng(3)
    samples = [builder.sample(rng, None) for _ in range(8)]
    start = time.perf_counter()
    for params in samples:
        builder.build(params)
    assert (time.perf_counter() - start) / len(samples) < 0.1


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError, match="unknown variant"):
        get_ship_builder("tug").sample(np.random.default_rng(0), "battleship")


def test_every_variant_reachable_without_asking():
    for name in CLASSES:
        builder = get_ship_builder(name)
        rng = np.random.default_rng(0)
        seen = {builder.sample(rng, None)["variant"] for _ in range(60)}
        assert seen == set(builder.variants)


def test_primitives_face_outwards():
    shapes = [
        boxes(np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 1.0, 0.5]])),
        prism(rounded_rect(0.0, 4.0, 1.0, 0.7, 0.3), 0.0, 2.0),
        lathe(np.array([0.0, 1.0, 3.0]), np.array([0.5, 1.0, 0.2])),
        ellipsoid((0.0, 0.0, 0.0), (3.0, 1.0, 0.5)),
    ]
    for shape in shapes:
        b = ShapeBuilder()
        b.add(shape, (0.5, 0.5, 0.5), "hull")
        mesh = b.mesh()
        assert _signed_volume(mesh.vertices, mesh.faces) > 0


@pytest.mark.parametrize(
    "bow, stern", [("raked", "transom"), ("clipper", "cruiser"), ("straight", "transom")]
)
def test_hull_is_closed_outward_and_sized(bow, stern):
    spec = HullSpec(length=100.0, beam=16.0, draft=6.0, freeboard=8.0, bow=bow, stern=stern, sheer_bow=2.0)
    hull = Hull(spec)
    b = ShapeBuilder()
    hull.add_to(
        b, HullPaint(topside=[0.1, 0.1, 0.1], bottom=[0.4, 0.05, 0.02], deck=[0.3, 0.3, 0.3], boot_top=1.0)
    )
    mesh = b.mesh()
    assert _signed_volume(mesh.vertices, mesh.faces) > 0.3 * 100 * 16 * 14
    assert mesh.size[0] == pytest.approx(100.0, abs=0.5)
    assert mesh.size[1] == pytest.approx(16.0, rel=0.05)
    below = mesh.face_colors[:, 0] > 0.35
    assert below.any() and (~below).any(), "antifouling below the boot top, topside colour above"
    assert float(hull.deck_z(45.0)) > float(hull.deck_z(0.0)), "sheer raises the deck towards the bow"
