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
    """How often the class is drawn for a bottle, relative to the other classes' weights; 0 leaves it out."""
    variant: Label | None = None
    """Shape variant to draw (a name or a choice of names, e.g. beer `longneck`); unset: any."""


class SceneSection(Section):
    """What stands where; drawn once per image."""

    count: param(1, 40, "int")
    """Bottles asked for per image; those that find no room on the set are left out."""
    arrangement: one_of(ARRANGEMENTS)
    """Scattered `standing` or `lying`, or `grouped` shoulder to shoulder (crates: always standing)."""
    same_class: Flag
    """All bottles of an image are one product, the same class and shape (crates always are)."""
    spread: param(1, 20)
    """Area the bottles are scattered over, in multiples of their own footprint: low packs them close."""
    props: param(0, 10, "int")
    """Unlabelled cans, cups and cartons placed among the bottles (they hide parts of them)."""


class BottleSection(Section):
    """Drawn again for every bottle of an image, each from its own stream."""

    fill: Fraction
    """Liquid level, share of a full bottle: 0 empty, 1 full (`plastic` bottles show no liquid)."""
    dent: Fraction
    """How crushed a PET or HDPE bottle is: 0 intact, 1 badly crushed (glass never dents)."""


class SurfaceSection(Section):
    """The set and its colours: `table` .. `ground` name the main surface's colour for each kind."""

    kind: one_of(KINDS)
    """The set: a `table`, a `conveyor` belt, a shop `shelf`, a bottle `crate` or the ground `outdoors`."""
    table: one_of(tuple(SURFACE_COLORS["table"]))
    """Colour of the table top (woods, cloths, steel), when the set is a table."""
    conveyor: one_of(tuple(SURFACE_COLORS["conveyor"]))
    """Colour of the belt, when the set is a conveyor."""
    shelf: one_of(tuple(SURFACE_COLORS["shelf"]))
    """Colour of the shelf, when the set is a shelf."""
    crate: one_of(tuple(SURFACE_COLORS["crate"]))
    """Colour of the crate, when the set is a crate."""
    ground: one_of(tuple(SURFACE_COLORS["outdoors"]))
    """Ground cover (grass, sand, asphalt ...), when the set is outdoors."""
    wall: one_of(tuple(WALL_COLORS))
    """Colour of the back wall of indoor sets."""
    floor: one_of(tuple(FLOOR_COLORS))
    """Colour of the floor of indoor sets."""
    brightness: param(0.05, 5)
    """Multiplies the set's surface, wall and floor colours: below 1 darker, above 1 lighter."""


class LightSection(Section):
    """The key lamp (or the sun through a window, or outdoors), a fill lamp and the room's ambient light."""

    key: one_of(LIGHT_KINDS)
    """Indoor key light: an `area` lamp or softbox, or the `sun` through a window (outdoors: the sun)."""
    key_elevation: param(0, 90)
    """Key light height above the horizon, degrees (outdoors: the sun's): low gives long shadows."""
    key_azimuth: Degrees
    """Key light direction round the bottles, degrees from the camera's side: 0 front light, 180 back."""
    key_size: param(0.01, 20)
    """Key lamp side (sun: window width) in metres, seen from 2 m: larger gives softer shadows."""
    key_strength: param(0, 100)
    """Key irradiance on the bottles, W/m2 (indoors; the fill scales with it, the room light does not)."""
    fill: param(0, 5)
    """Fill lamp beside the camera, opposite the key: share of the key strength; low leaves dark shadows."""
    temperature: param(1000, 20000)
    """Key light colour temperature, kelvin: 2800 warm tungsten .. 6500 daylight (the fill is white)."""
    world: one_of(tuple(WORLD_TINTS))
    """Colour of the room's ambient light (indoors)."""
    world_strength: param(0, 20)
    """Level of the room's ambient light (indoors): higher lifts the shadows."""
    clouds: Fraction
    """Outdoors only: cloud cover of the sky, 0 clear .. 1 covered; dims the sun by up to half."""
    overcast: Fraction
    """Outdoors only: grey overcast, 0 none .. 1 dull; dims the sun and softens its shadows."""


class BottleCameraSection(Section):
    """Where the camera sits relative to the bottles. `fill` sets the bottles' share of the frame (the
    distance follows from it); `distance`, when given, overrides it."""

    azimuth: param(-180, 180)
    """Camera direction round the set, degrees from its front, positive to the right (shelves: within 45)."""
    elevation: param(-10, 89)
    """Camera angle above the horizontal, degrees: high looks down on the bottles (shelves: at most 20)."""
    fill: param(0.05, 10)
    """Bottles' outline / frame size (sets the distance): 0.5 is half the frame, > 1 cuts them off."""
    distance: param(0.05, 1e4) | None = None
    """Camera distance from the bottles' centre, metres (at least 0.25); given, it replaces `fill`."""
    focal_length: param(1, 2000)
    """Lens focal length, mm on a 36 mm sensor: long lenses flatten the perspective."""
    roll: Degrees
    """Camera turned about its view axis, degrees: a tilted picture."""
    aim_x: param(-1, 1)
    """Aim point right of the bottles, frame widths: they sit left of centre (negative: right)."""
    aim_y: param(-1, 1)
    """Aim point above the bottles, frame heights: they sit below centre (negative: above)."""


class BottlePostSection(CameraEffectsSection):
    """Camera and delivery effects on the rendered pixels; no crop: the whole frame is delivered."""


class BottlesGraph(Section):
    """The bottles channel: one to many labelled bottles of five classes on everyday sets."""

    channel: Literal["bottles"] = "bottles"
    """The channel this graph is for: always `bottles`."""
    name: str = "bottles"
    """The graph's name, recorded in the dataset card (dataset.json) and the COCO info."""
    description: str = ""
    """What the graph renders, in a sentence: for people; the renders ignore it."""
    classes: dict[str, BottleClassSpec]
    """The bottle classes to draw, by name (`beer`, `plastic`, `soda`, `water`, `wine`)."""
    render: RenderSection
    """Renderer quality and the rules for labelling and re-drawing."""
    scene: SceneSection
    """How many bottles, how they stand, and the props among them; drawn once per image."""
    bottle: BottleSection
    """Fill level and dents, drawn again for every bottle."""
    surface: SurfaceSection
    """The set the bottles stand on and its colours."""
    light: LightSection
    """Key lamp (or sun), fill lamp and the room's ambient light."""
    camera: BottleCameraSection
    """Where the camera stands and how it frames the bottles."""
    post: BottlePostSection
    """Pixel effects on the delivered image (never cropped)."""

    def class_names(self) -> list[str]:
        """Classes with a non-zero weight, in file order: these are the dataset's categories."""
        return [name for name, spec in self.classes.items() if spec.weight > 0]
