"""Channels are declared once (`feint.channels`): a toy channel registered here, with a graph model and a
sampler of its own, loads from a graph file, shows in the unknown-channel error, and is gone once removed.
No Blender involved."""

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict

from feint.channels import (
    BUILTIN_CHANNELS,
    Channel,
    builtin_graph_names,
    channel_names,
    get_channel,
    graph_models,
    register_channel,
    unregister_channel,
)
from feint.errors import FeintError
from feint.graph import load_graph
from feint.scene.sampler import make_sampler


class ToyClass(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float = 1.0
    variant: None = None


class ToyGraph(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["toy"] = "toy"
    name: str = "toy"
    classes: dict[str, ToyClass]

    def class_names(self) -> list[str]:
        return [name for name, spec in self.classes.items() if spec.weight > 0]


class ToySampler:
    def __init__(self, graph: ToyGraph, seed: int, size: int):
        self.graph, self.seed, self.size = graph, seed, size

    def sample(self, index: int, attempt: int = 0) -> tuple[int, int, int]:  # a real one: SceneDescription
        return self.seed, index, attempt


@pytest.fixture
def toy():
    channel = Channel(
        name="toy",
        graph_model=ToyGraph,
        sampler=ToySampler,
        class_variants=lambda: {"cube": (), "ball": ()},
        supercategory="toy",
    )
    register_channel(channel)
    yield channel
    unregister_channel("toy")


def _graph_file(tmp_path, text: str):
    path = tmp_path / "toy.yaml"
    path.write_text(text)
    return path


def test_a_registered_channel_loads_and_samples(toy, tmp_path):
    graph = load_graph(_graph_file(tmp_path, "channel: toy\nclasses:\n  cube: {weight: 2}\n"))
    assert isinstance(graph, ToyGraph) and graph.class_names() == ["cube"]
    sampler = make_sampler(graph, 7, 64)
    assert isinstance(sampler, ToySampler) and sampler.sample(3) == (7, 3, 0)
    assert get_channel("toy").supercategory == "toy"
    assert graph_models()["toy"] is ToyGraph


def test_a_registered_channel_checks_its_own_classes(toy, tmp_path):
    path = _graph_file(tmp_path, "channel: toy\nclasses:\n  pyramid: {}\n")
    with pytest.raises(
        FeintError, match=r"toy.yaml:3: classes.pyramid: unknown class; built-in classes are cube, ball$"
    ):
        load_graph(path)


def test_the_unknown_channel_error_lists_every_channel(toy, tmp_path):
    with pytest.raises(FeintError, match=r"toy.yaml: unknown channel 'nope'; known: marine, bottles, toy$"):
        load_graph(_graph_file(tmp_path, "channel: nope\n"))


def test_an_unregistered_channel_is_gone(tmp_path):
    register_channel(Channel("toy", ToyGraph, ToySampler, lambda: {"cube": ()}, "toy"))
    unregister_channel("toy")
    assert channel_names() == ["marine", "bottles"]
    with pytest.raises(FeintError, match=r"unknown channel 'toy'; known: marine, bottles$"):
        load_graph(_graph_file(tmp_path, "channel: toy\nclasses:\n  cube: {}\n"))


def test_names_are_taken_once(toy):
    with pytest.raises(FeintError, match="already registered"):
        register_channel(toy)
    with pytest.raises(FeintError, match="built-in graph names already taken: marine"):
        register_channel(Channel("other", ToyGraph, ToySampler, dict, "x", builtin_graphs=("marine",)))
    with pytest.raises(FeintError, match="built in"):
        unregister_channel("marine")


@pytest.mark.parametrize("channel", BUILTIN_CHANNELS, ids=lambda c: c.name)
def test_every_builtin_channel_resolves(channel):
    """Each "module:attr" reference names what it should: the built-in graphs load as the channel's model,
    the sampler samples them, the asset library knows classes."""
    assert channel.variants()
    for name in channel.builtin_graphs:
        assert name in builtin_graph_names()
        graph = load_graph(name)
        assert type(graph) is channel.model() and graph.channel == channel.name
        assert set(graph.class_names()) <= set(channel.variants())
        assert callable(make_sampler(graph, 0, 32).sample)
