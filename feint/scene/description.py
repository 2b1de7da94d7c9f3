"""The plain scene description a sampler produces and a renderer consumes.

Nothing here knows about Blender: a `SceneDescription` is data (numbers, strings, asset parameters)
that fully determines one image, so it can be logged, compared, tested and re-rendered alone.
Units: metres and degrees; world axes: +z up, the main ship (or the set's surface) at the origin.
A sea scene has a `sea`; a close-range set (bottles on a table) has a `studio` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pose:
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    yaw: float = 0.0  # degrees about +z; 0 points the bow along +x
    pitch: float = 0.0  # degrees, bow up positive
    roll: float = 0.0  # degrees, starboard down positive


@dataclass(frozen=True)
class Wear:
    """Surface variation applied by the material (rust streaks, dirt, snow) and the geometry (warp)."""

    rust: float = 0.0
    dirt: float = 0.0
    snow: float = 0.0
    warp: float = 0.0


@dataclass(frozen=True)
class AssetRef:
    """Either a procedural asset (`builder` + its sampled `params`) or a model file the user gave."""

    builder: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    length: float | None = None  # rescale a model file to this length (metres), if given


@dataclass(frozen=True)
class SceneObject:
    """An object in the scene. `label` is its class name when it is annotated, else None."""

    name: str
    asset: AssetRef
    pose: Pose
    wear: Wear = field(default_factory=Wear)
    label: str | None = None
    pass_index: int = 0  # > 0 for annotated objects: their pixels in the object-index pass


@dataclass(frozen=True)
class Camera:
    location: tuple[float, float, float]
    look_at: tuple[float, float, float]
    focal_length: float  # mm
    sensor_width: float = 36.0  # mm
    roll: float = 0.0  # degrees
    clip_end: float = 1e5


@dataclass(frozen=True)
class Sky:
    sun_elevation: float
    sun_azimuth: float  # degrees, world frame (0 = +x, counter-clockwise)
    clouds: float
    overcast: float
    air: float
    dust: float


@dataclass(frozen=True)
class Sea:
    waves: float
    wave_scale: float
    color: tuple[float, float, float]  # linear RGB
    foam: float
    wake: float
    wake_heading: float  # degrees: the wake trails the main ship


@dataclass(frozen=True)
class Light:
    """A lamp of a close-range set: an area light at `location` aimed at `target`, or the sun shining
    from the direction `location` (a unit vector) onto `target`."""

    kind: str  # "area" or "sun"
    location: tuple[float, float, float]
    target: tuple[float, float, float]
    energy: float  # area: watts; sun: W/m2
    size: float  # area: side in metres; sun: angular diameter in degrees
    color: tuple[float, float, float]  # linear RGB, brightest channel 1


@dataclass(frozen=True)
class Studio:
    """Lighting of a close-range set: its lamps, and the room's ambient colour as the world (None
    outdoors, where the sky of `SceneDescription.sky` and its sun light the set)."""

    lights: tuple[Light, ...]
    world_color: tuple[float, float, float] | None


@dataclass(frozen=True)
class Atmosphere:
    visibility: float  # metres
    haze_color: tuple[float, float, float]  # linear RGB


@dataclass(frozen=True)
class RenderSettings:
    width: int
    height: int
    samples: int
    denoise: bool
    max_bounces: int
    denoise_guides: bool = False  # albedo/normal passes guide the denoiser (sharper, slower)


@dataclass(frozen=True)
class PostSettings:
    """Pixel-level effects, applied after rendering in `feint.render.post`."""

    crop: bool
    crop_margin: float
    cutout: bool
    low_detail: bool
    low_detail_px: int
    focus_blur: float
    motion_blur: float
    motion_angle: float
    noise: float
    exposure: float
    contrast: float
    saturation: float
    jpeg_quality: int
    out_width: int
    out_height: int
    max_stretch: float = 100.0  # a crop is widened so the resize stretches one axis at most this much


@dataclass(frozen=True)
class SceneDescription:
    """Everything needed to render one image, and the flat table row (`params`) describing it."""

    index: int
    seed: int
    attempt: int
    objects: tuple[SceneObject, ...]
    camera: Camera
    sky: Sky
    sea: Sea | None
    atmosphere: Atmosphere
    render: RenderSettings
    post: PostSettings
    params: dict[str, Any]
    min_visible_px: int = 1
    min_visible_fraction: float = 0.0
    studio: Studio | None = None

    @property
    def labelled(self) -> tuple[SceneObject, ...]:
        return tuple(o for o in self.objects if o.label is not None)
