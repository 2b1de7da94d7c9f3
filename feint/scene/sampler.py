"""Turn (graph, dataset seed, index) into a `SceneDescription`, with no Blender involved.

The sampler owns the domain logic of the marine channel: how a camera is placed so the ship fills a
given share of the frame (object resolution), where land, quays and other vessels go, which way the
sun shines relative to the view. The renderer only executes the description.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from feint.assets import asset_extent
from feint.assets.ships import get_ship_builder, list_ship_classes
from feint.channels import SceneSampler, get_channel
from feint.graph.schema import HAZE_TINTS, SEA_TINTS, MarineGraph
from feint.scene.camera import SENSOR_WIDTH_MM, aimed_camera
from feint.scene.description import (
    AssetRef,
    Atmosphere,
    Camera,
    Pose,
    PostSettings,
    RenderSettings,
    SceneDescription,
    SceneObject,
    Sea,
    Sky,
    Wear,
)
from feint.scene.seeds import image_seed, stream

if TYPE_CHECKING:
    from feint.graph.loader import Graph

# Ships big enough to be the hull a tug works alongside (`background.alongside`).
ALONGSIDE_CLASSES = ("aircraft_carrier", "bulkers", "car_carrier", "container_ship", "cruise")


class Sampler:
    """Draws scenes from one graph; cheap to call once per image."""

    def __init__(self, graph: MarineGraph, seed: int, size: int):
        self.graph = graph
        self.seed = int(seed)
        self.size = int(size)
        self.classes = graph.class_names()
        weights = np.array([graph.classes[c].weight for c in self.classes], dtype=np.float64)
        self.class_p = weights / weights.sum()
        # The graph's own parameters; a class's `overrides` are drawn instead once the class is known.
        self._parameters = [(n, d) for n, d in graph.parameters() if not n.startswith("classes.")]
        self._overrides = {c: graph.class_overrides(c) for c in self.classes}

    def sample(self, index: int, attempt: int = 0) -> SceneDescription:
        seed = image_seed(self.seed, index, attempt)
        p: dict[str, Any] = {name: dist.sample(stream(seed, name)) for name, dist in self._parameters}
        # The class comes from (seed, index) only: a re-draw (the ship too small to label) keeps it, else
        # classes that are often small would be re-drawn into others and fall short of their weights.
        class_rng = stream(image_seed(self.seed, index), "class")
        cls = self.classes[int(class_rng.choice(len(self.classes), p=self.class_p))]
        p.update({name: dist.sample(stream(seed, name)) for name, dist in self._overrides[cls]})
        ship = self._ship(seed, cls, p)
        extent = asset_extent(ship.asset)
        camera, view = self._camera(seed, p, extent)
        aspect = float(p["render.aspect"])
        out_w, out_h = self.size, max(8, round(self.size / aspect))
        objects = [ship, *self._background(seed, p, extent, view)]

        sky_azimuth = math.degrees(math.atan2(-view[1], -view[0])) + p["sky.sun_azimuth"]
        p.update(
            {
                "class": cls,
                "index": index,
                "seed": seed,
                "attempt": attempt,
                "ship.length_m": extent[0],
                "ship.height_m": extent[2],
            }
        )
        return SceneDescription(
            index=index,
            seed=seed,
            attempt=attempt,
            objects=tuple(objects),
            camera=camera,
            sky=Sky(
                p["sky.sun_elevation"],
                sky_azimuth,
                p["sky.clouds"],
                p["sky.overcast"],
                p["sky.air"],
                p["sky.dust"],
            ),
            sea=Sea(
                waves=p["sea.waves"],
                wave_scale=p["sea.wave_scale"],
                color=tuple(c * p["sea.brightness"] for c in SEA_TINTS[p["sea.tint"]]),
                foam=p["sea.foam"],
                wake=p["sea.wake"] * min(1.0, p["ship.speed_knots"] / 15.0),
                wake_heading=ship.pose.yaw,
            ),
            atmosphere=Atmosphere(
                p["atmosphere.visibility_km"] * 1000.0, HAZE_TINTS[p["atmosphere.haze_tint"]]
            ),
            render=RenderSettings(
                out_w,
                out_h,
                int(p["render.samples"]),
                bool(p["render.denoise"]),
                int(p["render.max_bounces"]),
                bool(p["render.denoise_guides"]),
            ),
            post=PostSettings(
                crop=bool(p["post.crop"]),
                crop_margin=p["post.crop_margin"],
                cutout=bool(p["post.cutout"]),
                low_detail=bool(p["post.low_detail"]),
                low_detail_px=int(p["post.low_detail_px"]),
                focus_blur=p["post.focus_blur"],
                motion_blur=p["post.motion_blur"],
                motion_angle=p["post.motion_angle"],
                noise=p["post.noise"],
                exposure=p["post.exposure"],
                contrast=p["post.contrast"],
                saturation=p["post.saturation"],
                jpeg_quality=int(p["post.jpeg_quality"]),
                out_width=out_w,
                out_height=out_h,
                max_stretch=p["post.max_stretch"],
            ),
            params=p,
            min_visible_px=int(p["render.min_visible_px"]),
            min_visible_fraction=float(p.get("render.min_visible_fraction") or 0.0),
        )

    def _ship(self, seed: int, cls: str, p: dict[str, Any]) -> SceneObject:
        spec = self.graph.classes[cls]
        variant = None if spec.variant is None else str(spec.variant.sample(stream(seed, "variant")))
        if spec.models is not None:
            asset = _model_file(
                spec.models,
                stream(seed, "asset"),
                None if spec.length is None else float(spec.length.sample(stream(seed, "length"))),
            )
            p["asset.file"] = asset.path
        else:
            builder = get_ship_builder(cls)
            params = builder.sample(stream(seed, "asset"), variant)
            asset = AssetRef(builder=cls, params=params)
            p["asset.params"] = json.dumps(params, sort_keys=True)
            variant = params.get("variant", variant)
        p["variant"] = variant
        pose = Pose(z=p["ship.heave"], pitch=p["ship.pitch"], roll=p["ship.roll"])
        wear = Wear(p["ship.rust"], p["ship.dirt"], p["ship.snow"], p["ship.warp"])
        return SceneObject("ship", asset, pose, wear, label=cls, pass_index=1)

    def _camera(
        self, seed: int, p: dict[str, Any], extent: tuple[float, float, float]
    ) -> tuple[Camera, np.ndarray]:
        """Place the camera so the ship spans `fill` of the frame width at the sampled focal length."""
        length, beam, height = extent
        aspect_angle = math.radians(p["camera.aspect_angle"])
        side = 1.0 if p["camera.side"] == "port" else -1.0
        horizontal = np.array([math.cos(aspect_angle), side * math.sin(aspect_angle), 0.0])
        elevation = p["camera.elevation"] * (1.0 + p["camera.elevation_jitter"])
        focal = p["camera.focal_length"]
        aspect = p["render.aspect"]

        seen_width = length * abs(math.sin(aspect_angle)) + beam * abs(math.cos(aspect_angle))
        frame_per_metre = SENSOR_WIDTH_MM / focal  # frame width (m) per metre of distance
        distance = seen_width / (frame_per_metre * p["camera.fill"])
        if p.get("camera.headroom") is None:  # optional parameters: set in the graph or a class's overrides
            distance = max(distance, height * aspect / (frame_per_metre * p["camera.fill"] * 1.1))
            target = np.array([0.0, 0.0, 0.35 * height])
        else:
            distance = max(distance, p["camera.headroom"] * height * aspect / frame_per_metre)
            target = np.array([0.0, 0.0, 0.5 * height])
        if p.get("camera.distance") is not None:
            distance = float(p["camera.distance"])
        up = math.sin(math.radians(elevation))
        location = target + distance * (math.cos(math.radians(elevation)) * horizontal + np.array([0, 0, up]))
        if p.get("camera.height") is not None:
            location[2] = float(p["camera.height"])
        location[2] = max(location[2], 0.3)

        p.update(
            {
                "camera.distance_m": float(distance),
                "camera.height_m": float(location[2]),
                "camera.elevation_deg": float(elevation),
            }
        )
        camera = aimed_camera(
            location, target, focal, aspect, (p["camera.aim_x"], p["camera.aim_y"]), p["camera.roll"]
        )
        view = target - location
        view /= np.linalg.norm(view)
        return camera, view

    def _background(
        self, seed: int, p: dict[str, Any], extent: tuple[float, float, float], view: np.ndarray
    ) -> list[SceneObject]:
        """Land or a quay behind the ship (seen past it from the camera), a big ship moored or working
        alongside it, and distractor vessels, always beyond the ship (they never hide it)."""
        length = extent[0]
        away = np.array([view[0], view[1], 0.0])
        away /= max(np.linalg.norm(away), 1e-9)
        yaw = math.degrees(math.atan2(away[1], away[0])) + 90.0  # the backdrop's long axis faces the camera
        objects: list[SceneObject] = []
        kind = p["background.kind"]
        if kind in ("coastline", "harbour"):
            dist = p["background.distance"] * length + length
            if kind == "harbour":
                dist = min(dist, 2.5 * length + 30.0)
            width = max(4.0 * dist * SENSOR_WIDTH_MM / p["camera.focal_length"], 3.0 * length)
            rng = stream(seed, "background")
            params = {
                "width": width,
                "depth": max(0.6 * width, 50.0),
                "height": p["background.land_height"] * length,
                "seed": int(rng.integers(2**31)),
            }
            x, y = (away * dist)[:2]
            objects.append(
                SceneObject(
                    kind, AssetRef(builder=kind, params=params), Pose(x=float(x), y=float(y), yaw=yaw)
                )
            )
        # labelled vessels (detection) take pass indices after the ship: the one alongside 2, distractors 3+
        labelled = bool(p["background.label_vessels"])
        if p["background.alongside"]:
            objects.append(self._alongside(seed, extent, away, labelled))
        rng = stream(seed, "distractors")
        builtin = list_ship_classes()
        for i in range(int(p["background.distractors"])):
            cls = builtin[int(rng.integers(len(builtin)))]
            params = get_ship_builder(cls).sample(rng, None)
            along = rng.uniform(1.5, 6.0) * length
            lateral = rng.uniform(-1.5, 1.5) * length
            # never so close that its hull, turned any way, reaches the ship: a big ship behind a small
            # boat would otherwise cross in front of it and hide all but its mast
            reach = 0.5 * (length + asset_extent(AssetRef(builder=cls, params=params))[0])
            along = max(along, reach + 0.5 * length)
            side = np.array([-away[1], away[0], 0.0])
            x, y = (away * along + side * lateral)[:2]
            objects.append(
                SceneObject(
                    f"distractor{i}",
                    AssetRef(builder=cls, params=params),
                    Pose(x=float(x), y=float(y), yaw=float(rng.uniform(0, 360))),
                    label=cls if labelled else None,
                    pass_index=3 + i if labelled else 0,
                )
            )
        return objects

    @staticmethod
    def _alongside(
        seed: int, extent: tuple[float, float, float], away: np.ndarray, labelled: bool
    ) -> SceneObject:
        """A big hull parallel to the ship, a few metres off its far side: tugs are photographed at work
        against the wall of the ship they push, which fills the background of the crop."""
        rng = stream(seed, "alongside")
        cls = ALONGSIDE_CLASSES[int(rng.integers(len(ALONGSIDE_CLASSES)))]
        params = get_ship_builder(cls).sample(rng, None)
        asset = AssetRef(builder=cls, params=params)
        big_length, big_beam, _ = asset_extent(asset)
        far_side = 1.0 if away[1] >= 0 else -1.0
        y = far_side * (extent[1] / 2 + big_beam / 2 + rng.uniform(2.0, 15.0))
        x = rng.uniform(-0.45, 0.45) * big_length
        yaw = float(rng.choice([0.0, 180.0]) + rng.normal(0.0, 3.0))
        pose = Pose(x=float(x), y=float(y), yaw=yaw)
        return SceneObject(
            "alongside", asset, pose, label=cls if labelled else None, pass_index=2 if labelled else 0
        )


def _model_file(folder: str, rng: np.random.Generator, length: float | None) -> AssetRef:
    from feint.assets.files import list_model_files

    files = list_model_files(folder)
    return AssetRef(path=str(files[int(rng.integers(len(files)))]), length=length)


def make_sampler(graph: Graph, seed: int, size: int) -> SceneSampler:
    """The sampler of the graph's channel (`feint.channels`: `MarineGraph` -> `Sampler`, `BottlesGraph` ->
    `BottleSampler`); every sampler has `sample(index, attempt) -> SceneDescription`."""
    return get_channel(graph.channel).make_sampler(graph, seed, size)
