"""Graph files: distributions, extends, validation errors that name file, line and field."""

import numpy as np
import pytest

from feint.assets import asset_extent
from feint.errors import FeintError
from feint.graph import load_graph, parse_distribution
from feint.graph.distributions import Choice, LogUniform, Normal, RandInt, Uniform
from feint.scene.sampler import ALONGSIDE_CLASSES, Sampler


@pytest.mark.parametrize(
    "yaml_value, kind",
    [
        ({"uniform": [1, 2]}, Uniform),
        ({"loguniform": [1, 10]}, LogUniform),
        ({"randint": [1, 3]}, RandInt),
        ({"normal": [0, 1]}, Normal),
        ({"normal": {"mean": 0, "std": 1, "low": -1, "high": 1}}, Normal),
        ({"choice": ["a", "b"]}, Choice),
        ({"choice": {"a": 0.9, "b": 0.1}}, Choice),
    ],
)
def test_distributions_sample_within_support_and_round_trip(yaml_value, kind):
    dist = parse_distribution(yaml_value)
    assert isinstance(dist, kind)
    rng = np.random.default_rng(0)
    draws = [dist.sample(rng) for _ in range(200)]
    support = dist.support()
    if support is not None:
        assert all(support[0] <= x <= support[1] for x in draws)
    assert parse_distribution(dist.to_yaml()) == dist


def test_weighted_choice_follows_weights():
    dist = parse_distribution({"choice": {"a": 0.9, "b": 0.1}})
    rng = np.random.default_rng(1)
    share = np.mean([dist.sample(rng) == "a" for _ in range(2000)])
    assert 0.86 < share < 0.94


@pytest.mark.parametrize(
    "bad", [{"uniform": [2, 1]}, {"gamma": [1, 2]}, {"loguniform": [0, 1]}, {"a": 1, "b": 2}]
)
def test_bad_distributions_are_rejected(bad):
    with pytest.raises(ValueError):
        parse_distribution(bad)


def test_extends_overrides_only_what_differs(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("extends: marine\ncamera:\n  focal_length: 50\nclasses:\n  tug: {weight: 3}\n")
    g = load_graph(path)
    base = load_graph("marine")
    assert g.camera.focal_length.sample(np.random.default_rng(0)) == 50
    assert g.classes["tug"].weight == 3
    assert g.camera.fill == base.camera.fill and g.sea == base.sea
    assert len(g.class_names()) == 10


def test_graph_round_trips_through_yaml(tmp_path):
    import yaml

    g = load_graph("marine")
    path = tmp_path / "dump.yaml"
    path.write_text(yaml.safe_dump(g.to_yaml(), sort_keys=False))
    assert load_graph(path) == g


@pytest.mark.parametrize(
    "text, expected",
    [
        ("extends: marine\ncamera:\n  fill: [1, 2\n", "malformed YAML"),
        (
            "extends: marine\nclasses:\n  tug: {weight: 1}\n  trawler: {weight: 1}\n",
            ":4: classes.trawler: unknown class",
        ),
        ("extends: marine\ncamera:\n  distance: {uniform: [-5, 10]}\n", ":3: camera.distance:"),
        ("extends: marine\ncamera:\n  zoom: 3\n", ":3: camera.zoom: unknown field"),
        (
            "extends: marine\nclasses:\n  tug: {models: no_such_folder}\n",
            "classes.tug.models: folder not found",
        ),
        ("extends: nowhere.yaml\n", "nowhere.yaml: graph file not found"),
        (
            "extends: marine\nclasses:\n  tug:\n    overrides:\n      camera:\n        fill: -1\n",
            ":6: classes.tug.overrides.camera.fill: -1 can reach -1, below the minimum 0.01",
        ),
        (
            "extends: marine\nclasses:\n  tug:\n    overrides:\n      camera: {zoom: 2}\n",
            "classes.tug.overrides.camera.zoom: camera has no parameter 'zoom'",
        ),
    ],
)
def test_bad_graph_files_name_file_line_and_field(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(FeintError) as err:
        load_graph(path)
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


def test_sampler_is_deterministic_per_index_and_independent_of_order():
    g = load_graph("marine")
    a, b = Sampler(g, seed=7, size=96), Sampler(g, seed=7, size=96)
    forward = [a.sample(i).params for i in range(5)]
    backward = [b.sample(i).params for i in reversed(range(5))][::-1]
    assert forward == backward
    assert Sampler(g, seed=8, size=96).sample(0).params != forward[0]


def test_changing_one_distribution_leaves_the_others_alone(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("extends: marine\nsky:\n  clouds: 0\n")
    base = Sampler(load_graph("marine"), 3, 96).sample(11).params
    changed = Sampler(load_graph(path), 3, 96).sample(11).params
    assert changed["sky.clouds"] == 0 and base["sky.clouds"] != 0
    same = {k for k in base if k != "sky.clouds" and base[k] == changed[k]}
    assert {"class", "camera.focal_length", "ship.rust", "asset.params"} <= same


def test_camera_fill_sets_object_resolution():
    """Wider fill -> closer camera, for the same ship and lens."""
    g = load_graph("marine")
    s = Sampler(g, 0, 160)
    d = s.sample(2)
    p = d.params
    frame_width = p["camera.distance_m"] * 36.0 / p["camera.focal_length"]
    seen = p["ship.length_m"] * abs(np.sin(np.radians(p["camera.aspect_angle"])))
    assert seen / frame_width <= p["camera.fill"] * 1.05


def test_class_overrides_apply_to_their_class_only(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(
        "extends: marine\nclasses:\n  tug:\n    overrides:\n"
        "      camera: {fill: 0.3}\n      background: {kind: open_sea}\n"
    )
    graph = load_graph(path)
    assert "classes.tug.overrides.camera.fill" in dict(graph.parameters())
    base, changed = Sampler(load_graph("marine"), 5, 96), Sampler(graph, 5, 96)
    seen = set()
    for i in range(40):
        a, b = base.sample(i).params, changed.sample(i).params
        assert a["class"] == b["class"]
        seen.add(a["class"])
        if b["class"] == "tug":
            assert (b["camera.fill"], b["background.kind"]) == (0.3, "open_sea")
        else:  # other classes draw exactly what the graph without the override draws
            assert (b["camera.fill"], b["background.kind"]) == (a["camera.fill"], a["background.kind"])
    assert "tug" in seen and len(seen) > 2


def test_a_big_ship_alongside_lies_parallel_on_the_far_side_and_changes_nothing_else(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("extends: marine\nbackground:\n  alongside: true\n")
    base, along = Sampler(load_graph("marine"), 4, 96), Sampler(load_graph(path), 4, 96)
    for i in range(6):
        a, b = base.sample(i), along.sample(i)
        assert not any(o.name == "alongside" for o in a.objects)
        big = next(o for o in b.objects if o.name == "alongside")
        ship = b.objects[0]
        # the rest of the scene is what the graph without it draws
        assert [o.name for o in b.objects if o.name != "alongside"] == [o.name for o in a.objects]
        assert b.camera == a.camera and b.params["class"] == a.params["class"]
        # a bigger hull, parallel to the ship, on the side away from the camera, clear of the ship's beam
        big_length, big_beam, _ = asset_extent(big.asset)
        length, beam, _ = asset_extent(ship.asset)
        assert big_length > length or ship.asset.builder in ALONGSIDE_CLASSES
        assert min(abs(big.pose.yaw % 180), 180 - abs(big.pose.yaw % 180)) < 15
        camera_y = b.camera.location[1]
        assert np.sign(big.pose.y) == -np.sign(camera_y) or abs(camera_y) < 1e-6
        assert abs(big.pose.y) >= beam / 2 + big_beam / 2 + 2.0 - 1e-6
