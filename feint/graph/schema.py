"""The typed schema of a scene graph, validated at the edge by pydantic.

A graph is a tree of sections; every leaf is a parameter (constant or distribution, see
`distributions.py`) with the bounds it must stay in. Validation checks the whole support of each
distribution against those bounds, so a bad range fails when the file is read. A parameter the sampler
or the renderer switches on (a sea tint, a background kind, a flag) names the values it knows instead,
and every value a distribution can draw must be one of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from feint.graph.distributions import (
    Choice,
    Constant,
    Distribution,
    Normal,
    RandInt,
    Scalar,
    parse_distribution,
)

SEA_TINTS: dict[str, tuple[float, float, float]] = {  # linear RGB albedo of the water body
    "deep_blue": (0.010, 0.030, 0.070),
    "blue_grey": (0.030, 0.045, 0.060),
    "green": (0.020, 0.045, 0.035),
    "teal": (0.012, 0.050, 0.060),
}
HAZE_TINTS: dict[str, tuple[float, float, float]] = {
    "neutral": (0.62, 0.66, 0.70),
    "blue": (0.50, 0.62, 0.80),
    "warm": (0.75, 0.68, 0.58),
}
BACKGROUND_KINDS = ("open_sea", "coastline", "harbour")
SIDES = ("port", "starboard")


@dataclass(frozen=True)
class Bounds:
    """The range a parameter's draws must stay in, kept on its type so tools (`feint tune`) can read it."""

    low: float | None
    high: float | None
    kind: str  # "number", "int" or "any" (labels and flags: no numeric bounds)
    values: tuple[Scalar, ...] | None = None  # all an "any" parameter may take, if the code switches on it


def check_parameter(value: Any, bounds: Bounds) -> Distribution:
    """`value` parsed into a Distribution whose whole support lies in the bounds and whose draws are
    among their `values`, if they name any (ValueError if not)."""
    dist = parse_distribution(value)
    low, high, kind = bounds.low, bounds.high, bounds.kind
    if kind == "any":
        if bounds.values is not None:
            check_vocabulary(dist, bounds.values)
        return dist
    if isinstance(dist, Normal) and dist.low is None and dist.high is None and dist.std > 0:
        # An open normal is fine where 4 sigma stay in bounds; it is truncated at the bounds.
        if (low is None or dist.mean - 4 * dist.std >= low) and (
            high is None or dist.mean + 4 * dist.std <= high
        ):
            dist = Normal(mean=dist.mean, std=dist.std, low=low, high=high)
    support = dist.support()
    if kind in ("number", "int"):
        if support is None:
            raise ValueError(f"expected a number or a numeric distribution, got {dist.describe()}")
        if kind == "int" and not _whole(dist):
            raise ValueError(f"expected a whole number, a randint or a choice of them, got {dist.describe()}")
        lo, hi = support
        if low is not None and lo < low:
            raise ValueError(f"{dist.describe()} can reach {lo:g}, below the minimum {low:g}")
        if high is not None and hi > high:
            raise ValueError(f"{dist.describe()} can reach {hi:g}, above the maximum {high:g}")
    return dist


def _whole(dist: Distribution) -> bool:
    """Draws that are whole numbers: an integer parameter (a count, a pixel size) is never truncated."""
    if isinstance(dist, RandInt):
        return True
    values = dist.outcomes() if isinstance(dist, Constant | Choice) else None
    return values is not None and all(float(v).is_integer() for v in values)


def check_vocabulary(dist: Distribution, values: Sequence[Scalar]) -> None:
    """Every value `dist` names must be one of `values`, of the same type (the flag `1` is no `true`)."""
    known = ", ".join(_show(v) for v in values)
    named = dist.outcomes()
    if named is None:
        raise ValueError(f"expected one of {known} or a choice of them, got {dist.describe()}")
    unknown = [v for v in named if not any(type(v) is type(k) and v == k for k in values)]
    if unknown:
        raise ValueError(f"unknown value {', '.join(_show(v) for v in unknown)}; expected one of {known}")


def _show(value: Scalar) -> str:
    """A value as a graph file writes it (`true`, `harbour`), quoted where plain text would mislead."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and not (value and value.isprintable() and value.strip() == value):
        return repr(value)
    return str(value)


def param(
    low: float | None = None,
    high: float | None = None,
    kind: str = "number",
    values: Sequence[Scalar] | None = None,
) -> Any:
    """An annotated parameter type: parsed into a Distribution and checked against its `Bounds`."""
    bounds = Bounds(low, high, kind, None if values is None else tuple(values))

    def check(value: Any) -> Distribution:
        return check_parameter(value, bounds)

    return Annotated[Distribution, BeforeValidator(check), bounds]


def one_of(values: Sequence[Scalar]) -> Any:
    """A parameter the code switches on (a dict key, a string compared): it may only draw `values`."""
    return param(kind="any", values=values)


def bounds_of(section: Section, name: str) -> Bounds | None:
    """The `Bounds` of field `name` of `section` (also when the field is optional), if it has any."""
    field = type(section).model_fields[name]
    found = [m for m in field.metadata if isinstance(m, Bounds)]
    for arg in get_args(field.annotation):  # `param(...) | None`: the bounds sit inside the union
        found += [m for m in getattr(arg, "__metadata__", ()) if isinstance(m, Bounds)]
    return found[0] if found else None


Degrees = param(-360, 360)
Fraction = param(0, 1)
Flag = one_of((False, True))
Label = param(kind="any")  # a free name: a class's variant, checked against its builder by the loader
# A class weight: big weights would overflow the sum the class probabilities are divided by.
Weight = Annotated[float, Field(ge=0, le=1e6, strict=True, allow_inf_nan=False)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    def parameters(self, prefix: str = "") -> Iterator[tuple[str, Distribution]]:
        """Every (dotted.path, distribution) in this section, in declaration order."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            path = f"{prefix}{name}"
            if isinstance(value, Distribution):
                yield path, value
            elif isinstance(value, Section):
                yield from value.parameters(path + ".")
            elif isinstance(value, dict):
                yield from _dict_parameters(value, path + ".")

    def to_yaml(self) -> dict[str, Any]:
        """Plain YAML-ready data that loads back into an equal graph (distributions in their YAML form)."""
        return {
            name: _plain(getattr(self, name))
            for name in type(self).model_fields
            if getattr(self, name) is not None and getattr(self, name) != {}
        }


def _dict_parameters(value: dict[str, Any], prefix: str) -> Iterator[tuple[str, Distribution]]:
    """The parameters inside a mapping: of its sections (classes) and nested distributions (overrides)."""
    for key, item in value.items():
        if isinstance(item, Section):
            yield from item.parameters(f"{prefix}{key}.")
        elif isinstance(item, Distribution):
            yield f"{prefix}{key}", item
        elif isinstance(item, dict):
            yield from _dict_parameters(item, f"{prefix}{key}.")


def _plain(value: Any) -> Any:
    if isinstance(value, Distribution):
        return value.to_yaml()
    if isinstance(value, Section):
        return value.to_yaml()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# Where Cycles may render (feint/render/device.py resolves a name on the machine that renders).
RenderDeviceName = Literal["auto", "cpu", "cuda", "optix", "hip", "oneapi", "metal"]


class RenderSection(Section):
    """Renderer quality settings (Cycles on the CPU by default) and label validity rules."""

    samples: param(1, 4096, "int")
    """Cycles path samples per pixel: more gives less render noise and takes longer."""
    denoise: Flag
    """Run the OpenImageDenoise denoiser on the render: smooths the noise that few samples leave."""
    # Albedo/normal guides sharpen texture detail but double the denoiser's cost (~0.25 s an image).
    denoise_guides: Flag = Field(default=False, validate_default=True)
    """Guide the denoiser with albedo and normal passes: sharper texture detail, slower denoising."""
    max_bounces: param(0, 64, "int")
    """Most bounces a light path may take (Cycles): fewer render faster, with less indirect light."""
    aspect: param(0.2, 5)
    """Width / height of the delivered image (its width is the render `--size`): 1.333 is 4:3."""
    min_visible_px: param(1, None, "int")
    """Fewest pixels an object must show in the render to be labelled; none labelled: re-drawn."""
    min_visible_fraction: param(0, 1) | None = None
    """Least share of an object's whole silhouette (nothing in front, no frame edge) that must show for it
    to be labelled: below it a fragment is left unlabelled. Unset: only `min_visible_px` applies. Every
    label records its share as `visibility`."""
    max_redraws: int = Field(default=20, ge=0, le=1000, strict=True)
    """How many times an image is re-drawn (a new scene) before it is recorded as failed."""
    device: RenderDeviceName = "auto"
    """Where Cycles renders: auto takes a GPU where Cycles finds one (OptiX, CUDA, HIP, oneAPI, Metal),
    else the CPU; `--device` overrides it. The same seed gives the same bytes on the same device."""


class ClassSpec(Section):
    """One class of the channel: how often it is drawn, where its 3D models come from, and `overrides`:
    distributions of the graph's own parameters drawn instead for this class (`camera: {fill: ...}`),
    since real photos frame a submarine differently from a carrier. The graph checks them."""

    weight: Weight = 1.0
    """How often the class is drawn, relative to the other classes' weights; 0 leaves it out."""
    variant: Label | None = None
    """Shape variant of the built-in model to draw (a name or a choice of names); unset: any."""
    models: str | None = None
    """Folder of your own glTF/GLB, OBJ or .blend models (relative to the graph file); one drawn per image."""
    length: param(0.01, 2000) | None = None
    """Length in metres the class's own models are scaled to (their x extent); unset: as modelled."""
    overrides: dict[str, dict[str, Any]] = {}
    """Distributions drawn instead of the graph's for this class, by section (`camera: {fill: ...}`)."""


class ShipSection(Section):
    heave: param(-50, 50)
    """Ship raised (+) or lowered (-) on the swell, metres."""
    pitch: Degrees
    """Ship pitch, degrees, bow up positive."""
    roll: Degrees
    """Ship roll (heel), degrees, starboard down positive."""
    speed_knots: param(0, 60)
    """Ship speed, knots: scales the bow wave and wake foam (full from 15 knots; 0: none)."""
    rust: Fraction
    """Rust patches on painted steel of the labelled ship: 0 none, 1 heavily rusted."""
    dirt: Fraction
    """Dark grime over painted steel of the labelled ship: 0 clean, 1 grimy."""
    snow: Fraction
    """Snow on the labelled ship's upward-facing surfaces: 0 none, 1 white all over them."""
    warp: Fraction
    """Random bend and twist of the ship's geometry: 0 straight, 1 a strong, visible warp."""


class SeaSection(Section):
    waves: Fraction
    """Sea state, 0 calm .. 1 rough: strength of the wave ripple on the water; also adds foam."""
    wave_scale: param(0.1, 1000)
    """Size of the wave pattern, metres (about the distance between crests): small is choppy."""
    tint: one_of(tuple(SEA_TINTS))
    """Colour of the water body (a named linear-RGB albedo)."""
    brightness: param(0, 10)
    """Multiplies the water colour: below 1 darker water, above 1 lighter."""
    foam: Fraction
    """Whitecap cover on the sea, 0 none .. 1 a lot (rougher `waves` add more)."""
    wake: Fraction
    """Foam of the bow wave and wake trail, 0 none .. 1 strong; scaled down below 15 knots of speed."""


class SkySection(Section):
    sun_elevation: param(-5, 90)
    """Sun height above the horizon, degrees: low gives a dim sun and long shadows; <= 0: no sun."""
    sun_azimuth: Degrees
    """Sun direction round the view, degrees: 0 behind the camera (front light), 180 backlight."""
    clouds: Fraction
    """Cloud cover of the sky, 0 clear .. 1 covered; dims the sun by up to half."""
    overcast: Fraction
    """Grey overcast over the whole sky, 0 none .. 1 dull: dims the sun and softens its shadows."""
    air: param(0, 10)
    """Air density of the sky model: with `dust`, raises its turbidity (a paler, hazier sky)."""
    dust: param(0, 10)
    """Aerosols of the sky model: with `air`, raises its turbidity (a paler, hazier sky)."""


class AtmosphereSection(Section):
    visibility_km: param(0.05, 1000)
    """Haze, km: the distance at which contrast falls to 5 %; low gives a washed-out picture."""
    haze_tint: one_of(tuple(HAZE_TINTS))
    """Colour that distant objects fade into (`neutral` grey, `blue` or `warm`)."""


class BackgroundSection(Section):
    kind: one_of(BACKGROUND_KINDS)
    """What stands behind the ship: nothing (`open_sea`), hills (`coastline`) or a quay (`harbour`)."""
    distance: param(0.05, 100)
    """Land or quay distance behind the ship: (this + 1) ship lengths; a quay at most 2.5 lengths + 30 m."""
    land_height: param(0, 50)
    """Height of the hills behind, in ship lengths (at least 1 m; behind a quay 0.6 of it)."""
    distractors: param(0, 20, "int")
    """Number of other vessels 1.5-6 ship lengths beyond the ship (unlabelled unless `label_vessels`)."""
    # A big ship moored or working beside the labelled one (the wall behind a tug at work).
    alongside: Flag = Field(default=False, validate_default=True)
    """Add a big ship (carrier, bulker, ...) parallel to the labelled one, a few metres off it."""
    # For detection: a ship left unlabelled teaches a detector to pass over ships.
    label_vessels: Flag = Field(default=False, validate_default=True)
    """Label the distractor vessels and the ship alongside with their classes too (detection); off,
    they are scenery and only the ship is labelled (classification)."""


class CameraSection(Section):
    """Where the camera sits relative to the ship. `fill` sets the ship's share of the frame width
    (object resolution); `distance` and `height`, when given, override `fill` and `elevation`."""

    aspect_angle: param(0, 180)
    """Viewing angle off the bow, degrees: 0 bow-on, 90 broadside, 180 stern-on."""
    side: one_of(SIDES)
    """Which side of the ship the camera is on."""
    elevation: param(-5, 89)
    """Camera angle above the horizontal as seen from the ship, degrees: high looks down on decks."""
    elevation_jitter: param(0, 30)
    """Raises `elevation` by this share of itself: 0 keeps it, 0.5 makes it 1.5 times as high."""
    fill: param(0.01, 10)
    """Ship's visible width / frame width (sets the distance): 0.5 is half the frame, > 1 cuts it off."""
    distance: param(0.1, 1e6) | None = None
    """Camera distance from the ship, metres; given, it replaces the distance `fill` sets."""
    height: param(-10, 1e5) | None = None
    """Camera height above the sea, metres (at least 0.3); given, it replaces what `elevation` sets."""
    headroom: param(0.5, 10) | None = None
    """Frame height / ship height at least this, the frame centred on the ship's middle height: the whole
    rig in the picture (sailboats, told apart by their sails). Unset: the frame centres low on the ship
    and may cut the tops of tall masts, as photos of long ships do."""
    focal_length: param(1, 2000)
    """Lens focal length, mm on a 36 mm sensor: long lenses flatten the perspective."""
    roll: Degrees
    """Camera turned about its view axis, degrees: a tilted horizon."""
    aim_x: param(-1, 1)
    """Aim point right of the subject, frame widths: the subject sits left of centre (negative: right)."""
    aim_y: param(-1, 1)
    """Aim point above the subject, frame heights: the subject sits below centre (negative: above)."""


class CameraEffectsSection(Section):
    """What a camera and a photo's delivery do to pixels, in every channel: blur, shake, noise, exposure,
    colour and JPEG compression (feint/render/post.py applies them)."""

    focus_blur: param(0, 100)
    """Out-of-focus blur, Gaussian sigma in pixels of the delivered image: 0 sharp."""
    motion_blur: param(0, 100)
    """Camera shake, length of the straight smear in pixels of the delivered image: 0 none."""
    motion_angle: Degrees
    """Direction of the camera shake in the image, degrees from horizontal (90: vertical)."""
    noise: param(0, 1)
    """Sensor noise: std of the Gaussian noise added to pixel values in [0, 1]; 0 none."""
    exposure: param(-10, 10)
    """EV over the auto exposure (metered on the highlights): +1 twice as bright, -1 half."""
    contrast: param(0, 3)
    """Contrast about mid grey: 1 unchanged, below 1 flatter, above 1 stronger."""
    saturation: param(0, 3)
    """Colour saturation: 1 unchanged, 0 greyscale, above 1 more vivid."""
    jpeg_quality: param(1, 100, "int")
    """JPEG quality of the delivered image, 1-100: low gives blocky compression artefacts."""


class PostSection(CameraEffectsSection):
    """The camera effects, and how ship photos were delivered: crops stretched to one size, cut-outs on
    black, tiny crops blown up (the labels follow every geometric step)."""

    crop: Flag
    """Crop the image to the ship's box (plus margin) and stretch the crop to the output size."""
    crop_margin: param(0, 2)
    """Margin added on each side of the crop box, as a fraction of the box's width and height."""
    # The crop is widened on its short side until the resize stretches the ship by at most this factor
    # (the photos are stretched crops, but a long low hull is never shown 6x taller than it is).
    max_stretch: param(1, 100) = Field(default=100.0, validate_default=True)
    """Most the resize may stretch the ship on one axis (a factor): the crop is widened to keep to it."""
    cutout: Flag
    """Black out everything but the labelled ship (its mask grown by 2 px), as pasted cut-outs."""
    low_detail: Flag
    """Shrink the image to `low_detail_px` and blow it up again with blocky nearest-neighbour pixels."""
    low_detail_px: param(2, 4096, "int")
    """Longer side of the shrunk image for `low_detail`, pixels: fewer is blockier."""


class MarineGraph(Section):
    """The marine channel: one labelled ship on the sea, seen as in ordinary ship photographs."""

    channel: Literal["marine"] = "marine"
    """The channel this graph is for: always `marine`."""
    name: str = "marine"
    """The graph's name, recorded in the dataset card (dataset.json) and the COCO info."""
    description: str = ""
    """What the graph renders, in a sentence: for people; the renders ignore it."""
    classes: dict[str, ClassSpec]
    """The ship classes to draw, by name: a built-in class, or any name with its own `models`."""
    render: RenderSection
    """Renderer quality and the rules for labelling and re-drawing."""
    ship: ShipSection
    """Pose, speed and wear of the labelled ship."""
    sea: SeaSection
    """The water: waves, colour, foam and wake."""
    sky: SkySection
    """Sun position, clouds and the sky model."""
    atmosphere: AtmosphereSection
    """Haze between the camera and the scene."""
    background: BackgroundSection
    """Land, quays and other vessels behind the ship."""
    camera: CameraSection
    """Where the camera stands and how it frames the ship."""
    post: PostSection
    """Pixel effects and how the image is delivered (crop, cut-out, blow-up)."""

    @model_validator(mode="after")
    def _check_overrides(self) -> MarineGraph:
        """Each class override names a parameter of the graph and keeps within that parameter's bounds; an
        optional parameter the graph leaves unset (camera.distance, camera.headroom) may be set per class."""
        for cls, spec in self.classes.items():
            for section_name, fields in spec.overrides.items():
                section = getattr(self, section_name, None)
                if not isinstance(section, Section) or section_name == "render":
                    raise ValueError(f"classes.{cls}.overrides: {section_name!r} is no section of the graph")
                if not isinstance(fields, dict):
                    raise ValueError(f"classes.{cls}.overrides.{section_name}: expected a mapping")
                for name, value in fields.items():
                    where = f"classes.{cls}.overrides.{section_name}.{name}"
                    if name not in type(section).model_fields or (bounds := bounds_of(section, name)) is None:
                        raise ValueError(f"{where}: {section_name} has no parameter {name!r}")
                    if not isinstance(value, Distribution):
                        try:
                            fields[name] = check_parameter(value, bounds)
                        except ValueError as err:
                            raise ValueError(f"{where}: {err}") from None
        return self

    def class_names(self) -> list[str]:
        """Classes with a non-zero weight, in file order: these are the dataset's categories."""
        return [name for name, spec in self.classes.items() if spec.weight > 0]

    def class_overrides(self, cls: str) -> list[tuple[str, Distribution]]:
        """(dotted.path, distribution) drawn instead of the graph's own for class `cls`."""
        return [
            (f"{section}.{name}", dist)
            for section, fields in self.classes[cls].overrides.items()
            for name, dist in fields.items()
        ]
