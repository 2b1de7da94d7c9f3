"""Channels: each kind of scene feint renders (today `marine` and `bottles`), declared once, by name.

A `Channel` says what every stage needs of it: the pydantic model its graph files validate against
(`feint.graph.loader`), the classes its asset library builds with their variants (checked when a graph
loads), its built-in graph files, the sampler that turns a graph into scene descriptions
(`feint.scene.sampler.make_sampler`) and the COCO supercategory of its classes (`feint.render.finalize`).
Adding a channel is adding one `Channel` to `BUILTIN_CHANNELS` (and its graph files to
feint/graph/builtin/).

The stages import this module, so it imports none of them: a channel names its graph model, sampler and
asset classes as "module:attr" strings, imported when first used (as entry points are), which keeps the
flow graph <- scene <- render one-way. A channel may give the objects themselves instead (a test's toy
channel, registered with `register_channel` and removed with `unregister_channel`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from feint.errors import FeintError
from feint.lazy import resolve

if TYPE_CHECKING:
    from pydantic import BaseModel

    from feint.scene.description import SceneDescription

DEFAULT_CHANNEL = "marine"  # the channel of a graph file that names none


class SceneSampler(Protocol):
    """What a channel's sampler is: built from (graph, dataset seed, image size), cheap per image."""

    def sample(self, index: int, attempt: int = 0) -> SceneDescription: ...


@dataclass(frozen=True)
class Channel:
    """One channel; each reference is a "module:attr" string or the object itself."""

    name: str
    graph_model: str | type[BaseModel]  # the pydantic model of its graph files (`channel: NAME`)
    sampler: str | Callable[[Any, int, int], SceneSampler]  # (graph, seed, size) -> sampler
    class_variants: str | Callable[[], dict[str, tuple[str, ...]]]  # built-in classes -> their variants
    supercategory: str  # the COCO supercategory of its classes
    builtin_graphs: tuple[str, ...] = ()  # built-in graph names: feint/graph/builtin/NAME.yaml
    # each class's model version (bumped when a model's pixels change); None: every class is version 1
    asset_versions: str | Callable[[], dict[str, int]] | None = None

    def model(self) -> type[BaseModel]:
        model: type[BaseModel] = resolve(self.graph_model)
        return model

    def make_sampler(self, graph: Any, seed: int, size: int) -> SceneSampler:
        make: Callable[[Any, int, int], SceneSampler] = resolve(self.sampler)
        return make(graph, seed, size)

    def variants(self) -> dict[str, tuple[str, ...]]:
        """The classes its asset library builds, each with the variants its builder knows."""
        variants: Callable[[], dict[str, tuple[str, ...]]] = resolve(self.class_variants)
        return variants()

    def asset_version(self, name: str) -> int:
        """The version of class `name`'s model: what a study's render cache key holds besides the graph."""
        if self.asset_versions is None:
            return 1
        versions: Callable[[], dict[str, int]] = resolve(self.asset_versions)
        return versions().get(name, 1)


BUILTIN_CHANNELS = (
    Channel(
        name="marine",
        graph_model="feint.graph.schema:MarineGraph",
        sampler="feint.scene.sampler:Sampler",
        class_variants="feint.assets.ships:ship_class_variants",
        supercategory="ship",
        builtin_graphs=("marine", "marine-detect"),
        asset_versions="feint.assets.ships:ship_asset_versions",
    ),
    Channel(
        name="bottles",
        graph_model="feint.graph.bottles:BottlesGraph",
        sampler="feint.scene.bottles:BottleSampler",
        class_variants="feint.assets.bottles:bottle_class_variants",
        supercategory="bottle",
        builtin_graphs=("bottles",),
    ),
)
_CHANNELS: dict[str, Channel] = {c.name: c for c in BUILTIN_CHANNELS}


def register_channel(channel: Channel) -> Channel:
    """Add a channel; its name and built-in graph names must be new."""
    if channel.name in _CHANNELS:
        raise FeintError(f"channel {channel.name!r} is already registered")
    taken = set(channel.builtin_graphs) & set(builtin_graph_names())
    if taken:
        raise FeintError(f"channel {channel.name!r}: built-in graph names already taken: {', '.join(taken)}")
    _CHANNELS[channel.name] = channel
    return channel


def unregister_channel(name: str) -> None:
    """Remove a channel `register_channel` added (the built-in ones stay)."""
    if name in (c.name for c in BUILTIN_CHANNELS):
        raise FeintError(f"channel {name!r} is built in and cannot be removed")
    get_channel(name)
    del _CHANNELS[name]


def channel_names() -> list[str]:
    return list(_CHANNELS)


def get_channel(name: object) -> Channel:
    """The channel called `name`; a FeintError listing the known channels if there is none."""
    if isinstance(name, str) and name in _CHANNELS:
        return _CHANNELS[name]
    raise FeintError(f"unknown channel {name!r}; known: {', '.join(_CHANNELS)}")


def graph_models() -> dict[str, type[BaseModel]]:
    """Every channel's graph model class, by channel name (in the order the channels were declared)."""
    return {name: channel.model() for name, channel in _CHANNELS.items()}


def builtin_graph_names() -> list[str]:
    """The names of every channel's built-in graphs (what `extends: NAME` and `feint render NAME` take)."""
    return [name for channel in _CHANNELS.values() for name in channel.builtin_graphs]
