"""The schema of the bottles channel: several labelled bottles on a table, belt, shelf, crate or the
ground, lit by lamps (or the sun), in the same graph language as the marine channel.

Named choices (set kinds, colours, arrangements) are checked against what the sampler and the asset
library know, so a misspelt colour fails when the file is read, with its line, not at image 9,000.
"""

from __future__ import annotations

from typing import Literal

from feint.assets.bottles.sets import FLOOR_COLORS, KINDS, SURFACE_COLORS, WALL_COLORS
from feint.graph.schema import (
    CameraEffectsSection,
    Degrees,
    Flag,
    Fraction,
    Label,
    RenderSection,
    Section,
    Weight,
    one_of,
    param,
)

ARRANGEMENTS = ("standing", "lying", "grouped")
LIGHT_KINDS = ("area", "sun")
#: Ambient colour of the room, linear RGB before `light.world_strength`.
WORLD_TINTS: dict[str, tuple[float, float, float]] = {
    "neutral": (1.0, 1.0, 1.0),
    "warm": (1.0, 0.82, 0.62),
    "cool": (0.78, 0.88, 1.0),
    "green": (0.82, 0.95, 0.8),
}


class BottleClassSpec(Section):
    """One bottle class: how often it is drawn, and optionally the one shape variant to draw."""

    weight: Weight = 1.0
    variant: Label | None = None


class SceneSection(Section):
    """What stands where; drawn once per image."""

    count: param(1, 40, "int")
    arrangement: one_of(ARRANGEMENTS)
    same_class: Flag
    spread: param(1, 20)
    props: param(0, 10, "int")


class BottleSection(Section):
    """Drawn again for every bottle of an image, each from its own stream."""

    fill: Fraction
    dent: Fraction


class SurfaceSection(Section):
    """The set and its colours: `table` .. `ground` name the main surface's colour for each kind."""

    kind: one_of(KINDS)
    table: one_of(tuple(SURFACE_COLORS["table"]))
    conveyor: one_of(tuple(SURFACE_COLORS["conveyor"]))
    shelf: one_of(tuple(SURFACE_COLORS["shelf"]))
    crate: one_of(tuple(SURFACE_COLORS["crate"]))
    ground: one_of(tuple(SURFACE_COLORS["outdoors"]))
    wall: one_of(tuple(WALL_COLORS))
    floor: one_of(tuple(FLOOR_COLORS))
    brightness: param(0.05, 5)


class LightSection(Section):
    """The key lamp (or the sun through a window, or outdoors), a fill lamp and the room's ambient light."""

    key: one_of(LIGHT_KINDS)
    key_elevation: param(0, 90)
    key_azimuth: Degrees
    key_size: param(0.01, 20)
    key_strength: param(0, 100)
    fill: param(0, 5)
    temperature: param(1000, 20000)
    world: one_of(tuple(WORLD_TINTS))
    world_strength: param(0, 20)
    clouds: Fraction
    overcast: Fraction


class BottleCameraSection(Section):
    """Where the camera sits relative to the bottles. `fill` sets the bottles' share of the frame (the
    distance follows from it); `distance`, when given, overrides it."""

    azimuth: param(-180, 180)
    elevation: param(-10, 89)
    fill: param(0.05, 10)
    distance: param(0.05, 1e4) | None = None
    focal_length: param(1, 2000)
    roll: Degrees
    aim_x: param(-1, 1)
    aim_y: param(-1, 1)


class BottlePostSection(CameraEffectsSection):
    """Camera and delivery effects on the rendered pixels; no crop: the whole frame is delivered."""


class BottlesGraph(Section):
    """The bottles channel: one to many labelled bottles of five classes on everyday sets."""

    channel: Literal["bottles"] = "bottles"
    name: str = "bottles"
    description: str = ""
    classes: dict[str, BottleClassSpec]
    render: RenderSection
    scene: SceneSection
    bottle: BottleSection
    surface: SurfaceSection
    light: LightSection
    camera: BottleCameraSection
    post: BottlePostSection

    def class_names(self) -> list[str]:
        """Classes with a non-zero weight, in file order: these are the dataset's categories."""
        return [name for name, spec in self.classes.items() if spec.weight > 0]
