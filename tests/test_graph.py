"""Graph files: distributions, extends, validation errors that name file, line and field."""

import dataclasses
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from feint.assets import asset_extent, build_asset
from feint.assets.bottles import get_bottle_builder
from feint.assets.ships import get_ship_builder
from feint.errors import FeintError
from feint.graph import load_graph, parse_distribution
from feint.graph.distributions import Choice, LogUniform, Normal, RandInt, Uniform
from feint.graph.schema import Bounds, Section, bounds_of
from feint.scene.description import SceneDescription
from feint.scene.sampler import ALONGSIDE_CLASSES, Sampler, make_sampler


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
    "bad",
    [
        {"uniform": [2, 1]},
        {"gamma": [1, 2]},
        {"loguniform": [0, 1]},
        {"loguniform": [-1, 1]},
        {"a": 1, "b": 2},
        {"randint": [3, 1]},
        {"randint": [1.5, 2]},
        {"normal": [0, -1]},
        {"normal": {"mean": 0, "std": 1, "low": 2, "high": 1}},
        {"choice": []},
        {"choice": {"a": 0, "b": 0}},
        {"choice": {"a": -1, "b": 2}},
        {"bernoulli": 1.5},
    ],
)
def test_bad_distributions_are_rejected(bad):
    with pytest.raises(ValueError):
        parse_distribution(bad)


@pytest.mark.parametrize(
    "yaml_value",
    [
        {"uniform": [2, 2]},
        {"loguniform": [0.1, 0.1]},
        {"loguniform": [100, 100]},
        {"randint": [3, 3]},
        {"normal": [1, 0]},
        {"normal": {"mean": 5, "std": 0, "low": 0, "high": 1}},
        {"normal": {"mean": 0.5, "std": 1e-300, "low": 0, "high": 1}},
        {"choice": {"values": [1, 2], "weights": [0, 1]}},
        {"bernoulli": 0},
    ],
)
def test_degenerate_distributions_draw_within_their_support(yaml_value):
    dist = parse_distribution(yaml_value)
    rng = np.random.default_rng(0)
    support = dist.support()
    for x in (dist.sample(rng) for _ in range(50)):
        assert support is None or support[0] <= x <= support[1]


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


def test_detection_renders_are_never_delivered_as_classification_crops_in_any_class():
    """marine-detect turns off the crop, the cut-out on black and the blown-up tiny image, and so for the
    classes whose overrides in marine turn them on (carriers, sailboats, ...)."""
    delivered = ("post.crop", "post.cutout", "post.low_detail")
    for name in ("marine-detect", "marine"):
        graph = load_graph(name)
        for cls in ("aircraft_carrier", "bulkers", "submarine", "recreational", "sailboat", "tug"):
            for dist_name, dist in graph.class_overrides(cls):
                if dist_name in delivered:
                    drawn = [bool(dist.sample(np.random.default_rng(k))) for k in range(200)]
                    assert (not any(drawn)) if name == "marine-detect" else any(drawn), (name, cls, dist_name)


def test_other_vessels_are_labelled_with_their_classes_only_where_the_graph_says_so(tmp_path):
    """marine-detect labels every vessel (a detector must not learn to pass over ships); marine keeps them
    as scenery, and labelling changes nothing but the labels."""
    path = tmp_path / "g.yaml"
    path.write_text("extends: marine\nbackground: {distractors: 2, alongside: true}\n")
    labelled = tmp_path / "labelled.yaml"
    labelled.write_text(f"extends: {path}\nbackground: {{label_vessels: true}}\n")
    plain, every = Sampler(load_graph(path), 6, 96), Sampler(load_graph(labelled), 6, 96)
    for i in range(5):
        a, b = plain.sample(i), every.sample(i)
        assert [o.label for o in a.labelled] == [a.params["class"]]
        assert [(o.name, o.asset, o.pose) for o in a.objects] == [
            (o.name, o.asset, o.pose) for o in b.objects
        ]
        vessels = [o for o in b.objects if o.name == "alongside" or o.name.startswith("distractor")]
        assert len(vessels) == 3 and all(o.label == o.asset.builder for o in vessels)
        indices = [o.pass_index for o in b.labelled]
        assert len(set(indices)) == len(indices) == 4 and min(indices) == 1  # the ship first, each its own


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


def test_headroom_puts_a_sailboats_whole_rig_in_the_frame(tmp_path):
    """Without headroom a tall rig's top is cut off the frame; with it the frame holds the whole height,
    and only the class that sets it moves its camera."""
    v3 = Path("examples/graphs/marine-v3.yaml").resolve()  # a graph without headroom
    path = tmp_path / "g.yaml"
    path.write_text(
        f"extends: {v3}\nclasses:\n  sailboat:\n    overrides:\n      camera: {{headroom: 1.2}}\n"
    )
    base, tall = Sampler(load_graph(v3), 2, 96), Sampler(load_graph(path), 2, 96)

    def frame_height(q: dict) -> float:
        return q["camera.distance_m"] * 36.0 / q["camera.focal_length"] / q["render.aspect"]

    cut = 0
    for i in range(60):
        a, b = base.sample(i).params, tall.sample(i).params
        if b["class"] != "sailboat":
            assert b["camera.distance_m"] == a["camera.distance_m"]
            continue
        assert frame_height(b) >= 1.2 * b["ship.height_m"] * 0.999
        cut += frame_height(a) < a["ship.height_m"]
    assert cut > 0


def test_distractor_vessels_stand_beyond_the_reach_of_the_ship_whatever_their_size(tmp_path):
    """A distractor turned any way never reaches the labelled ship, so it cannot cross in front of it:
    small boats with big ships behind them are where this once failed."""
    path = tmp_path / "g.yaml"
    path.write_text(
        "extends: marine\nclasses: {sailboat: {weight: 1}, tug: {weight: 1}}\nbackground: {distractors: 2}\n"
    )
    sampler = Sampler(load_graph(path), 9, 96)
    big = 0
    for i in range(40):
        scene = sampler.sample(i)
        ship = scene.objects[0]
        length = asset_extent(ship.asset)[0]
        for other in scene.objects:
            if other.name.startswith("distractor"):
                other_length = asset_extent(other.asset)[0]
                big += other_length > 5 * length
                gap = math.hypot(other.pose.x - ship.pose.x, other.pose.y - ship.pose.y)
                assert gap >= 0.5 * (length + other_length), (i, other.asset.builder)
    assert big > 5  # the case that matters was drawn


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


@pytest.mark.parametrize(
    "text, expected",
    [
        # a key given twice: PyYAML would keep the last and drop the first without a word
        ("camera:\n  fill: 0.5\n  fill: 0.6\n", ":4: camera.fill: duplicate key 'fill' (first at line 3)"),
        ("name: a\nname: b\n", ":3: name: duplicate key 'name' (first at line 2)"),
        ("camera: {}\nsky: {}\ncamera: {}\n", ":4: camera: duplicate key 'camera' (first at line 2)"),
        (
            "background:\n  distractors: {choice: {1: 0.5, 1.0: 0.5}}\n",
            ":3: background.distractors.choice.1.0: duplicate key '1.0' (first at line 3)",
        ),
        ("camera:\n  fill: &x [*x]\n", ":3: camera.fill.0: an alias refers to a mapping or list"),
        # NaN and infinities
        ("camera:\n  fill: .nan\n", ":3: camera.fill: expected a finite number, got nan"),
        ("camera:\n  fill: {uniform: [0.5, .inf]}\n", ":3: camera.fill: uniform takes two finite"),
        ("camera:\n  roll: {normal: [0, .inf]}\n", ":3: camera.roll: normal takes two finite"),
        ("camera:\n  roll: {normal: {mean: .nan, std: 1}}\n", ":3: camera.roll: normal mean must be"),
        ("post:\n  crop: {bernoulli: .nan}\n", ":3: post.crop: bernoulli takes a probability"),
        ("sea:\n  tint: {choice: {green: .inf}}\n", ":3: sea.tint: choice weights must be finite"),
        ("post:\n  jpeg_quality: {randint: [60, .inf]}\n", ":3: post.jpeg_quality: randint takes two"),
        ("classes:\n  tug: {weight: .inf}\n", ":3: classes.tug.weight: Input should be a finite number"),
        (
            "render:\n  min_visible_px: {randint: [1, 1.0e+30]}\n",
            ":3: render.min_visible_px: randint bounds must lie",
        ),
        (
            "sea:\n  tint: {choice: {green: 1.0e+308, teal: 1.0e+308}}\n",
            ":3: sea.tint: choice weights are too",
        ),
        # values outside what the sampler and renderer know, also in choices and class overrides
        ("sea:\n  tint: purple\n", ":3: sea.tint: unknown value purple; expected one of deep_blue"),
        (
            "atmosphere:\n  haze_tint: {choice: [blue, pink]}\n",
            ":3: atmosphere.haze_tint: unknown value pink",
        ),
        ("background:\n  kind: lake\n", ":3: background.kind: unknown value lake"),
        ("camera:\n  side: {uniform: [0, 1]}\n", ":3: camera.side: expected one of port, starboard"),
        ("post:\n  crop: 'no'\n", ":3: post.crop: unknown value no; expected one of false, true"),
        ("render:\n  denoise: 1\n", ":3: render.denoise: unknown value 1; expected one of false, true"),
        ("classes:\n  tug: {variant: zzz}\n", ":3: classes.tug.variant: unknown value zzz; expected one of"),
        (
            "classes:\n  tug:\n    overrides:\n      background: {kind: {choice: [harbour, lake]}}\n",
            ":5: classes.tug.overrides.background.kind: unknown value lake",
        ),
        (
            "extends: bottles\nclasses:\n  beer: {variant: magnum}\n",
            ":3: classes.beer.variant: unknown value magnum",
        ),
        # the wrong type where the parent had a section, a class or a distribution
        ("camera: 3\n", ":2: camera: expected a mapping of fields, got 3"),
        ("camera: [1, 2]\n", ":2: camera: expected a mapping of fields, got [1, 2]"),
        ("camera:\n", "bad.yaml:2: camera: expected a mapping of fields, got nothing"),
        ("classes: [tug]\n", ":2: classes: expected a mapping of fields, got ['tug']"),
        ("classes:\n  tug: 3\n", ":3: classes.tug: expected a mapping of fields, got 3"),
        ("classes:\n  tug: {overrides: [1]}\n", ":3: classes.tug.overrides: expected a mapping"),
        ("classes:\n  tug: {models: 3}\n", ":3: classes.tug.models: Input should be a valid string"),
        ("camera:\n  fill: [1, 2]\n", ":3: camera.fill: expected a constant or one of"),
        ("camera:\n  fill: {choice: [1], uniform: [1, 2]}\n", ":3: camera.fill: expected a constant"),
        ("channel: [marine]\n", "bad.yaml: unknown channel ['marine']"),
        (
            "classes:\n  tug: {overrides: {camera: {distance: 0.01}}}\n",
            ":3: classes.tug.overrides.camera.distance: ",
        ),
        # misspelt distributions, wrong arities, strings and booleans for numbers
        ("camera:\n  fill: {unifrom: [1, 2]}\n", ":3: camera.fill: unknown distribution 'unifrom'"),
        ("camera:\n  fill: {uniform: [1]}\n", ":3: camera.fill: uniform takes two finite numbers"),
        ("camera:\n  fill: {uniform: 3}\n", ":3: camera.fill: uniform takes two finite numbers"),
        ("camera:\n  fill: {uniform: [yes, 2]}\n", ":3: camera.fill: uniform takes two finite numbers"),
        ("camera:\n  fill: yes\n", ":3: camera.fill: expected a number or a numeric distribution"),
        ("camera:\n  fill: 'big'\n", ":3: camera.fill: expected a number or a numeric distribution"),
        ("camera:\n  roll: {normal: {mean: 0, sd: 1}}\n", ":3: camera.roll: normal takes {mean, std}"),
        ("camera:\n  roll: {normal: [0, 1, 2]}\n", ":3: camera.roll: normal takes two finite numbers"),
        ("camera:\n  side: {choice: {values: 3, weights: [1]}}\n", ":3: camera.side: choice takes"),
        ("camera:\n  side: {choice: [port, ~]}\n", ":3: camera.side: choice values must be names"),
        ("camera:\n  side: {choice: {port: yes}}\n", ":3: camera.side: choice weights must be finite"),
        ("post:\n  crop: {bernoulli: yes}\n", ":3: post.crop: bernoulli takes a probability"),
        ("render:\n  samples: 8.5\n", ":3: render.samples: expected a whole number"),
        ("render:\n  max_redraws: yes\n", ":3: render.max_redraws: Input should be a valid integer"),
        ("classes:\n  tug: {weight: yes}\n", ":3: classes.tug.weight: Input should be a valid number"),
        (
            "extends: bottles\nscene:\n  count: {uniform: [1, 4]}\n",
            ":3: scene.count: expected a whole number",
        ),
    ],
)
def test_what_the_sampler_cannot_use_is_refused_at_load(tmp_path, text, expected):
    """Each `text` extends marine unless it says otherwise (line 1)."""
    path = tmp_path / "bad.yaml"
    path.write_text(text if text.startswith("extends:") else f"extends: marine\n{text}")
    with pytest.raises(FeintError) as err:
        load_graph(path)
    message = str(err.value)
    assert expected in message and message.startswith(str(path))
    assert "\n" not in message


def test_unreadable_graph_files_are_one_line_errors(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"extends: marine\nname: \xff\n")
    with pytest.raises(FeintError, match=r"bad.yaml: not a UTF-8 text file \(byte 22\)"):
        load_graph(path)
    with pytest.raises(FeintError, match="cannot read the graph file"):
        load_graph(tmp_path / "a\0b.yaml")


# --- every parameter of both schemas ----------------------------------------------------------------
def _schema_fields(base: str) -> list[tuple[str, Bounds, bool]]:
    """(dotted path, bounds, whether it may be left out) of every parameter the sections of built-in
    graph `base` declare, set or not."""
    graph = load_graph(base)
    return [
        (f"{name}.{field}", bounds, type(section).model_fields[field].default is None)
        for name in type(graph).model_fields
        if isinstance(section := getattr(graph, name), Section)
        for field in type(section).model_fields
        if (bounds := bounds_of(section, field)) is not None
    ]


FIELDS = [(base, *field) for base in ("marine", "bottles") for field in _schema_fields(base)]
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _valid_values(bounds: Bounds) -> list[Any]:
    """The lower bound, the upper bound and a distribution spanning them (of a vocabulary: its first
    value, its last and a choice of all). A field with no upper bound is tried 1000 above its lower."""
    if bounds.values is not None:
        return [bounds.values[0], bounds.values[-1], {"choice": list(bounds.values)}]
    low, high = bounds.low, bounds.high if bounds.high is not None else bounds.low + 1000
    if bounds.kind == "int":
        return [int(low), int(high), {"randint": [int(low), int(high)]}]
    return [low, high, {"uniform": [low, high]}]


def _bad_values(bounds: Bounds, optional: bool) -> list[Any]:
    """Values the sampler could not use: each must be refused at load, naming the field."""
    common = [math.nan, {"unifrom": [1, 2]}] + ([] if optional else [None])
    if bounds.values is not None:
        wrong = 1 if bounds.values == (False, True) else "no_such_value"
        return [*common, wrong, {"uniform": [0, 1]}, {"choice": [bounds.values[0], wrong]}]
    out = [*common, "text", True, bounds.low - 1]
    if bounds.high is not None:
        out.append(bounds.high + 1)
    if bounds.kind == "int":
        out.append(bounds.low + 0.5)
    return out


def _graph_file(tmp_path: Path, base: str, path: str, value: Any, cls: str | None = None) -> Path:
    """A graph file extending `base` that sets only `path` (line 3), or overrides it for class `cls` (6)."""
    section, field = path.split(".")
    body = {section: {field: value}}
    if cls is not None:
        body = {"classes": {cls: {"overrides": body}}}
    file = tmp_path / "g.yaml"
    file.write_text(yaml.dump({"extends": base, **body}, Dumper=DUMPER, sort_keys=False))
    return file


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from _numbers(getattr(value, field.name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)


def _sample_cleanly(graph: Any, indices: range) -> list[SceneDescription]:
    """Scenes drawn with no exception and no NaN or infinity for the renderer."""
    sampler = make_sampler(graph, seed=1, size=64)
    scenes = [sampler.sample(i) for i in indices]
    for scene in scenes:
        bad = [x for x in _numbers(scene) if not math.isfinite(x)]
        assert not bad, bad
    return scenes


def test_every_parameter_is_walked_and_every_label_has_a_vocabulary():
    for base in ("marine", "bottles"):
        walked = {path for b, path, _, _ in FIELDS if b == base}
        drawn = {path for path, _ in load_graph(base).parameters() if not path.startswith("classes.")}
        assert drawn <= walked
    for _, path, bounds, _ in FIELDS:
        assert bounds.kind in ("number", "int", "any"), path
        if bounds.kind == "any":  # the sampler and renderer switch on every label and flag
            assert bounds.values, f"{path} takes any value"
        else:
            assert bounds.low is not None, path


@pytest.mark.parametrize("base, path, bounds, optional", FIELDS, ids=[f"{f[0]}:{f[1]}" for f in FIELDS])
def test_every_parameter_samples_at_its_bounds_and_refuses_what_it_cannot_use(
    tmp_path, base, path, bounds, optional
):
    for value, indices in zip(_valid_values(bounds), (range(1), range(1), range(2)), strict=True):
        _sample_cleanly(load_graph(_graph_file(tmp_path, base, path, value)), indices)
    for value in _bad_values(bounds, optional):
        with pytest.raises(FeintError, match=re.escape(f"g.yaml:3: {path}: ")):
            load_graph(_graph_file(tmp_path, base, path, value))
    if base == "marine" and not path.startswith("render."):  # as a class override (optional ones too)
        low = _valid_values(bounds)[0]
        graph = load_graph(_graph_file(tmp_path, base, path, low, cls="tug"))
        assert (path, parse_distribution(low)) in graph.class_overrides("tug")
        for value in _bad_values(bounds, optional)[:2]:
            with pytest.raises(FeintError, match=re.escape(f"g.yaml:6: classes.tug.overrides.{path}: ")):
                load_graph(_graph_file(tmp_path, base, path, value, cls="tug"))


@pytest.mark.parametrize("base", ["marine", "bottles"])
def test_every_parameter_at_its_bounds_at_once(tmp_path, base):
    """All parameters at their lower bound together, then at their upper bound, then spanning them; the
    renderer's meshes of what they draw build too."""
    for which in range(3):
        body: dict[str, dict[str, Any]] = {}
        for b, path, bounds, _ in FIELDS:
            section, field = path.split(".")
            if b == base:  # labels and flags: a choice of all their values
                body.setdefault(section, {})[field] = _valid_values(bounds)[2 if bounds.values else which]
        file = tmp_path / "g.yaml"
        file.write_text(yaml.dump({"extends": base, **body}, Dumper=DUMPER, sort_keys=False))
        for scene in _sample_cleanly(load_graph(file), range(3)):
            for obj in scene.objects:
                assert np.isfinite(build_asset(obj.asset).vertices).all(), obj.name


@pytest.mark.parametrize("base", ["marine", "bottles"])
def test_every_variant_of_every_builtin_class_samples(tmp_path, base):
    graph = load_graph(base)
    for cls in graph.class_names():
        get = get_bottle_builder if base == "bottles" else get_ship_builder
        variants = get(cls).variants
        for variant in [*variants, {"choice": list(variants)}]:
            classes = {**{c: {"weight": 0} for c in graph.classes if c != cls}, cls: {"variant": variant}}
            file = tmp_path / "g.yaml"
            file.write_text(yaml.dump({"extends": base, "classes": classes}, Dumper=DUMPER))
            for scene in _sample_cleanly(load_graph(file), range(1 if isinstance(variant, str) else 3)):
                assert scene.params["variant"] in (variant if isinstance(variant, str) else variants)
        file.write_text(f"extends: {base}\nclasses:\n  {cls}:\n    variant: no_such_variant\n")
        with pytest.raises(FeintError, match=f"g.yaml:4: classes.{cls}.variant: unknown value no_such_"):
            load_graph(file)


def _ranges(node: Any, path: str = "") -> Iterator[tuple[str, str, float, float]]:
    """Every uniform and loguniform leaf of graph data, with its dotted path."""
    if isinstance(node, dict):
        for kind in ("uniform", "loguniform"):
            if set(node) == {kind}:
                low, high = node[kind]
                yield path, kind, float(low), float(high)
                return
        for key, value in node.items():
            yield from _ranges(value, f"{path}.{key}" if path else str(key))


@pytest.mark.parametrize("name", ["marine", "marine-detect", "bottles"])
def test_builtin_graphs_randomise_every_range(name):
    """A graph exists to randomise: a tuned range narrowed to a near-point (the first tuner left
    `camera.fill` 1.0441-1.0466) is a constant in disguise. Each range spans at least a tenth of its
    magnitude (a loguniform at least a factor 1.25)."""
    from feint.graph.loader import load_graph_dict

    merged, _ = load_graph_dict(name)
    ranges = list(_ranges(merged))
    assert ranges
    narrow = [
        f"{path}: {kind}({low:g}, {high:g})"
        for path, kind, low, high in ranges
        if (high / low < 1.25 if kind == "loguniform" else high - low < 0.1 * max(abs(low), abs(high)))
    ]
    assert not narrow, narrow
