"""Ship classes are declared once (`register_ship`): a toy class registered here is accepted by graph files,
drawn by the sampler with its own parameters and built into a mesh, without touching any other module."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from feint.assets import build_asset
from feint.assets.mesh import box
from feint.assets.ships import ShipBuilder, register_ship, ship_class_variants, unregister_ship
from feint.errors import FeintError
from feint.graph import load_graph
from feint.scene.sampler import make_sampler


def sample_pontoon(rng: np.random.Generator, variant: str | None) -> dict[str, Any]:
    return {"variant": variant or "flat", "length": float(rng.uniform(20, 40))}


def build_pontoon(params: dict[str, Any]) -> Any:
    return box((params["length"], 8.0, 2.0), (0.0, 0.0, 1.0), part="hull")


@pytest.fixture
def pontoon():
    builder = register_ship(ShipBuilder("pontoon", ("flat", "decked"), sample_pontoon, build_pontoon))
    yield builder
    unregister_ship("pontoon")


def test_a_registered_ship_class_is_drawn_and_built(pontoon, tmp_path):
    assert ship_class_variants()["pontoon"] == ("flat", "decked")
    graph_file = tmp_path / "pontoons.yaml"  # `classes` merge into marine's: weight 0 leaves one out
    others = "".join(f"  {name}: {{weight: 0}}\n" for name in ship_class_variants() if name != "pontoon")
    graph_file.write_text(f"extends: marine\nclasses:\n{others}  pontoon: {{variant: decked}}\n")
    graph = load_graph(graph_file)
    assert graph.class_names() == ["pontoon"]
    scene = make_sampler(graph, 0, 64).sample(0)
    (ship,) = [o for o in scene.labelled]
    assert ship.label == "pontoon" and ship.asset.builder == "pontoon"
    assert ship.asset.params["variant"] == "decked" and 20 <= ship.asset.params["length"] <= 40
    mesh = build_asset(ship.asset)
    assert np.allclose(mesh.bounds[1] - mesh.bounds[0], (ship.asset.params["length"], 8.0, 2.0))


def test_graph_files_check_the_registered_variants(pontoon, tmp_path):
    graph_file = tmp_path / "bad.yaml"
    graph_file.write_text("extends: marine\nclasses:\n  pontoon: {variant: round}\n")
    with pytest.raises(FeintError, match=r"bad.yaml:3: classes.pontoon.variant: .*flat, decked"):
        load_graph(graph_file)


def test_an_unregistered_class_is_unknown_again(tmp_path):
    register_ship(ShipBuilder("pontoon", ("flat",), sample_pontoon, build_pontoon))
    with pytest.raises(FeintError, match="already registered"):
        register_ship(ShipBuilder("pontoon", ("flat",), sample_pontoon, build_pontoon))
    unregister_ship("pontoon")
    assert "pontoon" not in ship_class_variants()
    graph_file = tmp_path / "gone.yaml"
    graph_file.write_text("extends: marine\nclasses:\n  pontoon: {}\n")
    with pytest.raises(FeintError, match=r"gone.yaml:3: classes.pontoon: unknown class"):
        load_graph(graph_file)
