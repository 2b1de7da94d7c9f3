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
    model_config = ConfigDict(extra="forbid", frozen=True)

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


class RenderSection(Section):
    """Renderer quality settings (Cycles on the CPU by default) and label validity rules."""

    samples: param(1, 4096, "int")
    denoise: Flag
    # Albedo/normal guides sharpen texture detail but double the denoiser's cost (~0.25 s an image).
    denoise_guides: Flag = Field(default=False, validate_default=True)
    max_bounces: param(0, 64, "int")
    aspect: param(0.2, 5)
    min_visible_px: param(1, None, "int")
    max_redraws: int = Field(default=20, ge=0, le=1000, strict=True)


class ClassSpec(Section):
    """One class of the channel: how often it is drawn, where its 3D models come from, and `overrides`:
    distributions of the graph's own parameters drawn instead for this class (`camera: {fill: ...}`),
    since real photos frame a submarine differently from a carrier. The graph checks them."""

    weight: Weight = 1.0
    variant: Label | None = None
    models: str | None = None
    length: param(0.01, 2000) | None = None
    overrides: dict[str, dict[str, Any]] = {}


class ShipSection(Section):
    heave: param(-50, 50)
    pitch: Degrees
    roll: Degrees
    speed_knots: param(0, 60)
    rust: Fraction
    dirt: Fraction
    snow: Fraction
    warp: Fraction


class SeaSection(Section):
    waves: Fraction
    wave_scale: param(0.1, 1000)
    tint: one_of(tuple(SEA_TINTS))
    brightness: param(0, 10)
    foam: Fraction
    wake: Fraction


class SkySection(Section):
    sun_elevation: param(-5, 90)
    sun_azimuth: Degrees
    clouds: Fraction
    overcast: Fraction
    air: param(0, 10)
    dust: param(0, 10)


class AtmosphereSection(Section):
    visibility_km: param(0.05, 1000)
    haze_tint: one_of(tuple(HAZE_TINTS))


class BackgroundSection(Section):
    kind: one_of(BACKGROUND_KINDS)
    distance: param(0.05, 100)
    land_height: param(0, 50)
    distractors: param(0, 20, "int")
    # A big ship moored or working beside the labelled one (the wall behind a tug at work).
    alongside: Flag = Field(default=False, validate_default=True)


class CameraSection(Section):
    """Where the camera sits relative to the ship. `fill` sets the ship's share of the frame width
    (object resolution); `distance` and `height`, when given, override `fill` and `elevation`."""

    aspect_angle: param(0, 180)
    side: one_of(SIDES)
    elevation: param(-5, 89)
    elevation_jitter: param(0, 30)
    fill: param(0.01, 10)
    distance: param(0.1, 1e6) | None = None
    height: param(-10, 1e5) | None = None
    focal_length: param(1, 2000)
    roll: Degrees
    aim_x: param(-1, 1)
    aim_y: param(-1, 1)


class CameraEffectsSection(Section):
    """What a camera and a photo's delivery do to pixels, in every channel: blur, shake, noise, exposure,
    colour and JPEG compression (feint/render/post.py applies them)."""

    focus_blur: param(0, 100)
    motion_blur: param(0, 100)
    motion_angle: Degrees
    noise: param(0, 1)
    exposure: param(-10, 10)
    contrast: param(0, 3)
    saturation: param(0, 3)
    jpeg_quality: param(1, 100, "int")


class PostSection(CameraEffectsSection):
    """The camera effects, and how ship photos were delivered: crops stretched to one size, cut-outs on
    black, tiny crops blown up (the labels follow every geometric step)."""

    crop: Flag
    crop_margin: param(0, 2)
    # The crop is widened on its short side until the resize stretches the ship by at most this factor
    # (the photos are stretched crops, but a long low hull is never shown 6x taller than it is).
    max_stretch: param(1, 100) = Field(default=100.0, validate_default=True)
    cutout: Flag
    low_detail: Flag
    low_detail_px: param(2, 4096, "int")


class MarineGraph(Section):
    """The marine channel: one labelled ship on the sea, seen as in ordinary ship photographs."""

    channel: Literal["marine"] = "marine"
    name: str = "marine"
    description: str = ""
    classes: dict[str, ClassSpec]
    render: RenderSection
    ship: ShipSection
    sea: SeaSection
    sky: SkySection
    atmosphere: AtmosphereSection
    background: BackgroundSection
    camera: CameraSection
    post: PostSection

    @model_validator(mode="after")
    def _check_overrides(self) -> MarineGraph:
        """Each class override names a parameter of the graph and keeps within that parameter's bounds."""
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
                    if getattr(section, name) is None:  # an optional one the graph leaves out
                        raise ValueError(f"{where}: {section_name}.{name} is not in the graph to override")
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
