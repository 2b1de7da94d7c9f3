"""The bottles channel: (graph, dataset seed, index) -> `SceneDescription`, with no Blender involved.

The bottles are drawn first, because their sizes decide the set (a shelf's clearance, a crate's cells);
then the set, then where the bottles and props stand (disc packing, `placement.py`), then a camera
framing the bottles so they span `camera.fill` of the frame, and lights placed relative to the camera.

Bottle k (of those that found room) gets pass index k + 1, so each one has its own mask and box.
Occlusion: a bottle hidden (by other bottles, props, crate walls, guide rails, the frame edge) down to
fewer than `render.min_visible_px` pixels is dropped from the labels by the worker rather than the image
redrawn, since crowded scenes nearly always hide one; it stays in the picture as a sliver too small to
annotate fairly. An image left with no labelled bottle is redrawn.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from feint.assets import build_asset
from feint.assets.bottles import get_bottle_builder
from feint.assets.bottles.sets import sample_prop, sample_set, support
from feint.assets.mesh import rotation_matrix
from feint.assets.ships.palette import srgb_to_linear
from feint.graph.bottles import WORLD_TINTS, BottlesGraph
from feint.scene.camera import SENSOR_WIDTH_MM, aimed_camera, as_xyz, view_axes
from feint.scene.description import (
    AssetRef,
    Atmosphere,
    Camera,
    Light,
    Pose,
    PostSettings,
    RenderSettings,
    SceneDescription,
    SceneObject,
    Sky,
    Studio,
)
from feint.scene.placement import Item, Packer, Spot
from feint.scene.seeds import image_seed, stream

LAMP_DISTANCE = 2.0  # metres from the bottles to the key lamp (its size is the light's softness there)
CLEAR_AIR = Atmosphere(visibility=50_000.0, haze_color=(0.62, 0.66, 0.70))
SHELF_VIEW = (45.0, 20.0)  # most azimuth, elevation (degrees) that still see under the board above


def kelvin_rgb(kelvin: float) -> tuple[float, float, float]:
    """Linear RGB of a black body at `kelvin`, brightest channel 1 (Tanner Helland's fit to the
    Planckian locus in sRGB, good to a few percent from 1000 to 12000 K)."""
    t = kelvin / 100.0
    r = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    g = (
        99.4708025861 * math.log(t) - 161.1195681661
        if t <= 66
        else 288.1221695283 * (t - 60) ** -0.0755148492
    )
    b = 255.0 if t >= 66 else 0.0 if t <= 19 else 138.5177312231 * math.log(t - 10) - 305.0447927307
    r, g, b = (min(max(c, 0.0), 255.0) / 255.0 for c in (r, g, b))
    rgb = np.asarray(srgb_to_linear((r, g, b)), dtype=np.float64)
    return as_xyz(rgb / max(rgb.max(), 1e-6))


class BottleSampler:
    """Draws bottle scenes from one graph; cheap to call once per image."""

    def __init__(self, graph: BottlesGraph, seed: int, size: int):
        self.graph = graph
        self.seed = int(seed)
        self.size = int(size)
        self.classes = graph.class_names()
        weights = np.array([graph.classes[c].weight for c in self.classes], dtype=np.float64)
        self.class_p = weights / weights.sum()
        every = list(graph.parameters())
        self._parameters = [(n, d) for n, d in every if not n.startswith("bottle.")]
        self._per_bottle = [(n, d) for n, d in every if n.startswith("bottle.")]

    def sample(self, index: int, attempt: int = 0) -> SceneDescription:
        seed = image_seed(self.seed, index, attempt)
        p: dict[str, Any] = {name: dist.sample(stream(seed, name)) for name, dist in self._parameters}
        bottles = self._bottles(seed, p)
        kind = p["surface.kind"]
        colors = {
            "surface": p["surface.ground" if kind == "outdoors" else f"surface.{kind}"],
            "wall": p["surface.wall"],
            "floor": p["surface.floor"],
        }
        needs = {
            "height": max(b["height"] for b in bottles),
            "radius": max(b["radius"] for b in bottles),
            "count": len(bottles),
        }
        set_params = sample_set(kind, stream(seed, "surface"), colors, p["surface.brightness"], needs)
        packer = Packer(support(set_params), stream(seed, "placement"))
        placed = self._place_bottles(packer, bottles, p)
        props = self._props(seed, p, packer, placed)
        objects = [SceneObject("set", AssetRef(builder=kind, params=set_params), Pose())]
        corners = []
        for k, (b, pose) in enumerate(placed):
            asset = AssetRef(builder=b["class"], params=b["params"])
            objects.append(SceneObject(f"bottle{k}", asset, pose, label=b["class"], pass_index=k + 1))
            corners.append(_corners(b["lo"], b["hi"], pose))
        objects.extend(props)

        aspect = float(p["render.aspect"])
        out_w, out_h = self.size, max(8, round(self.size / aspect))
        camera, back, target = self._camera(p, kind, np.concatenate(corners), aspect)
        sky, studio = self._lighting(p, kind, back, target)
        first = placed[0][0]
        p.update(
            {
                "class": first["class"],
                "variant": first["params"]["variant"],
                "index": index,
                "seed": seed,
                "attempt": attempt,
                "bottles.count": len(placed),
                "bottles.classes": ",".join(b["class"] for b, _ in placed),
                "bottles.lying": sum(pose.pitch != 0 for _, pose in placed),
                "asset.params": json.dumps(
                    {
                        "set": set_params,
                        "bottles": [{"class": b["class"], **b["params"]} for b, _ in placed],
                        "props": [o.asset.params for o in props],
                    },
                    sort_keys=True,
                ),
            }
        )
        return SceneDescription(
            index=index,
            seed=seed,
            attempt=attempt,
            objects=tuple(objects),
            camera=camera,
            sky=sky,
            sea=None,
            atmosphere=CLEAR_AIR,
            render=RenderSettings(
                out_w,
                out_h,
                int(p["render.samples"]),
                bool(p["render.denoise"]),
                int(p["render.max_bounces"]),
                bool(p["render.denoise_guides"]),
            ),
            post=PostSettings(
                crop=False,
                crop_margin=0.0,
                cutout=False,
                low_detail=False,
                low_detail_px=2,
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
            ),
            params=p,
            min_visible_px=int(p["render.min_visible_px"]),
            min_visible_fraction=float(p.get("render.min_visible_fraction") or 0.0),
            studio=studio,
        )

    def _draw_class(self, rng: np.random.Generator) -> str:
        return self.classes[int(rng.choice(len(self.classes), p=self.class_p))]

    def _bottles(self, seed: int, p: dict[str, Any]) -> list[dict[str, Any]]:
        """Class, asset params and extent of each bottle. With `scene.same_class` they are one product
        (a shelf facing; always in a crate): the same bottle, each with its own fill level and dents."""
        rng = stream(seed, "class")
        one_product = p["scene.same_class"] or p["surface.kind"] == "crate"
        shared: dict[str, Any] | None = None
        bottles = []
        for i in range(int(p["scene.count"])):
            if one_product and shared is not None:
                cls, params = shared["class"], dict(shared["params"])
            else:
                cls = self._draw_class(rng)
                spec = self.graph.classes[cls]
                variant = (
                    None
                    if spec.variant is None
                    else str(spec.variant.sample(stream(seed, f"bottle{i}.variant")))
                )
                params = get_bottle_builder(cls).sample(stream(seed, f"bottle{i}"), variant)
                shared = shared or {"class": cls, "params": params}
            dists = {n.removeprefix("bottle."): d for n, d in self._per_bottle}
            own = {n: d.sample(stream(seed, f"bottle{i}.{n}")) for n, d in dists.items()}
            params = {**params, "fill": params["fill"] * own["fill"], "dent": own["dent"]}
            lo, hi = build_asset(AssetRef(builder=cls, params=params)).bounds
            radius = float(max(np.abs(lo[:2]).max(), np.abs(hi[:2]).max()))
            bottles.append(
                {"class": cls, "params": params, "lo": lo, "hi": hi, "radius": radius, "height": float(hi[2])}
            )
        return bottles

    def _place_bottles(
        self, packer: Packer, bottles: list[dict[str, Any]], p: dict[str, Any]
    ) -> list[tuple[dict[str, Any], Pose]]:
        """Pack the bottles as the arrangement says (in a crate: one per cell); bottles with no room left
        are left out, and a lying bottle that does not fit lying is stood up."""
        items = [Item(b["radius"], b["height"]) for b in bottles]
        arrangement = "crate" if packer.support.cells else p["scene.arrangement"]
        lying = arrangement == "lying"
        window = packer.window(items, p["scene.spread"], lying)
        if arrangement == "crate":
            spots = [packer.place_in_cell(it) for it in items]
        elif arrangement == "grouped":
            spots = packer.place_group(items, window)
        else:
            spots = [
                packer.place_random(it, window, lying) or packer.place_random(it, window, False)
                for it in items
            ]
        p["scene.arrangement_used"] = arrangement
        placed = [(b, _pose(b, spot)) for b, spot in zip(bottles, spots, strict=True) if spot is not None]
        if not placed:  # a support always holds one standing bottle; keep the first whatever the packing
            placed = [(bottles[0], _pose(bottles[0], Spot(0.0, 0.0, 0.0, False)))]
        return placed

    def _props(
        self, seed: int, p: dict[str, Any], packer: Packer, placed: list[tuple[dict[str, Any], Pose]]
    ) -> list[SceneObject]:
        """Unlabelled cans, cups and cartons among the bottles: occluders and look-alikes."""
        rng = stream(seed, "props")
        xs = [pose.x for _, pose in placed]
        ys = [pose.y for _, pose in placed]
        margin = 0.15
        window = (min(xs) - margin, max(xs) + margin, min(ys) - margin, max(ys) + margin)
        objects = []
        for i in range(int(p["scene.props"])):
            params = sample_prop(rng)
            item = Item(params["radius"], params["height"])
            spot = (
                packer.place_in_cell(item)
                if packer.support.cells
                else packer.place_random(item, window, False)
            )
            if spot is not None:
                pose = Pose(x=spot.x, y=spot.y, yaw=spot.heading)
                objects.append(SceneObject(f"prop{i}", AssetRef(builder="prop", params=params), pose))
        return objects

    def _camera(
        self, p: dict[str, Any], kind: str, corners: np.ndarray, aspect: float
    ) -> tuple[Camera, np.ndarray, np.ndarray]:
        """Aim at the bottles' box from (azimuth, elevation) and back off until their outline spans
        `camera.fill` of the frame at the sampled focal length (azimuth 0: from the set's front, -y)."""
        azimuth, elevation = p["camera.azimuth"], p["camera.elevation"]
        if kind == "shelf":
            azimuth = float(np.clip(azimuth, -SHELF_VIEW[0], SHELF_VIEW[0]))
            elevation = min(elevation, SHELF_VIEW[1])
        az, el = math.radians(azimuth), math.radians(elevation)
        back = np.array([math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el)])
        target = (corners.min(axis=0) + corners.max(axis=0)) / 2
        right, up = view_axes(-back)
        rel = corners - target
        focal = p["camera.focal_length"]
        frame_per_metre = SENSOR_WIDTH_MM / focal
        frame_w = max(np.ptp(rel @ right), np.ptp(rel @ up) * aspect) / p["camera.fill"]
        distance = frame_w / frame_per_metre + 0.5 * float((rel @ back).max())
        if self.graph.camera.distance is not None:
            distance = float(p["camera.distance"])
        distance = max(distance, 0.25)
        location = target + distance * back
        p.update(
            {
                "camera.distance_m": float(distance),
                "camera.height_m": float(location[2]),
                "camera.azimuth_deg": float(azimuth),
                "camera.elevation_deg": float(elevation),
            }
        )
        aim = (p["camera.aim_x"], p["camera.aim_y"])
        camera = aimed_camera(location, target, focal, aspect, aim, p["camera.roll"], clip_end=1000.0)
        return camera, back, target

    def _lighting(
        self, p: dict[str, Any], kind: str, back: np.ndarray, target: np.ndarray
    ) -> tuple[Sky, Studio]:
        """Key lamp (or sun) at (key_azimuth from the camera's side, key_elevation), a soft fill lamp on
        the camera's other side, the room's ambient colour as the world; outdoors, the sky and its sun."""
        heading = math.atan2(back[1], back[0]) + math.radians(p["light.key_azimuth"])
        el = math.radians(p["light.key_elevation"])
        direction = np.array(
            [math.cos(el) * math.cos(heading), math.cos(el) * math.sin(heading), math.sin(el)]
        )
        sky = Sky(
            p["light.key_elevation"], math.degrees(heading), p["light.clouds"], p["light.overcast"], 1.0, 1.0
        )
        if kind == "outdoors":
            return sky, Studio(lights=(), world_color=None)
        strength, size = p["light.key_strength"], p["light.key_size"]
        color = kelvin_rgb(p["light.temperature"])
        aim = as_xyz(target)
        if p["light.key"] == "sun":  # through a window: the window's size seen from the lamp distance
            angle = math.degrees(2 * math.atan(size / (2 * LAMP_DISTANCE)))
            key = Light("sun", as_xyz(direction), aim, strength, angle, color)
        else:
            at = target + LAMP_DISTANCE * direction
            energy = math.pi * LAMP_DISTANCE**2 * strength  # irradiance `strength` W/m2 on the bottles
            key = Light("area", as_xyz(at), aim, energy, size, color)
        side = -1.0 if ((p["light.key_azimuth"] + 180) % 360 - 180) > 0 else 1.0
        fill_heading = math.atan2(back[1], back[0]) + side * math.radians(50)
        fill_dir = np.array([math.cos(fill_heading), math.sin(fill_heading), 0.35])
        fill_at = target + 2.5 * fill_dir / np.linalg.norm(fill_dir)
        fill_energy = math.pi * 2.5**2 * strength * p["light.fill"]
        fill = Light("area", as_xyz(fill_at), aim, fill_energy, 1.5, (1.0, 1.0, 1.0))
        tint, level = WORLD_TINTS[p["light.world"]], p["light.world_strength"]
        world = (tint[0] * level, tint[1] * level, tint[2] * level)
        return sky, Studio(lights=(key, fill), world_color=world)


def _pose(bottle: dict[str, Any], spot: Spot) -> Pose:
    """Standing: turned about its axis. Lying: pitched 90 degrees (its axis then points along -x, turned
    by yaw: hence the half turn) and raised so its lowest point touches the surface."""
    if not spot.lying:
        return Pose(x=spot.x, y=spot.y, yaw=spot.heading)
    return Pose(x=spot.x, y=spot.y, z=float(-bottle["lo"][0]), yaw=spot.heading + 180.0, pitch=90.0)


def _corners(lo: np.ndarray, hi: np.ndarray, pose: Pose) -> np.ndarray:
    """The 8 corners of an object's local box, posed in the world."""
    box = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    rot = rotation_matrix(math.radians(pose.yaw), math.radians(pose.pitch), math.radians(pose.roll))
    return box @ rot.T + np.array([pose.x, pose.y, pose.z])
