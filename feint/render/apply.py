"""Per sample: a `SceneDescription` applied to a worker's persistent Blender scene, then rendered.

`BlenderScene` sets the values of what `feint.render.scene_setup` built once (render settings, sky, sea,
camera, sun), gives each procedural object a reused mesh slot, imports user models once, and returns the
raw passes (`feint.render.passes`); pixel effects live in `post.py`.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from pathlib import Path

import bpy
import numpy as np
from mathutils import Euler, Vector

from feint.assets import build_asset
from feint.assets.mesh import PARTS, Mesh
from feint.assets.modifiers import warp
from feint.render.device import CPU, RenderDevice
from feint.render.passes import RenderPasses, read_passes
from feint.render.scene_setup import build_static_scene
from feint.render.visibility import silhouette_area
from feint.scene.description import AssetRef, Light, SceneDescription, SceneObject, Sea

SMOOTH_ANGLE = math.radians(40)  # close-range sets: smooth-shade turned bodies, keep box edges sharp


class BlenderScene:
    """A persistent Blender scene for one worker process."""

    def __init__(
        self, threads: int = 0, workdir: str | None = None, device: RenderDevice = CPU, slot: int = 0
    ):
        self.static = build_static_scene(threads, workdir, device, slot)
        self.scene = self.static.scene
        self._slots: list[bpy.types.Object] = []
        self._model_roots: dict[str, bpy.types.Object] = {}
        self._lamps: list[bpy.types.Object] = []  # area lights of close-range sets, made on first use
        self._posed: list[tuple[int, Mesh, bpy.types.Object]] = []  # pass index, mesh, slot of this sample
        # Seconds of the last render's stages: the scene update, Cycles (sync, BVH, path tracing, denoising,
        # EXR write) and reading the passes back; a render's records carry them (its profile).
        self.timing: dict[str, float] = {}

    def update(self, desc: SceneDescription) -> None:
        """Set the Blender scene to `desc` (settings, world, studio, objects, camera), ready to render."""
        self._apply_settings(desc)
        self._apply_world(desc)
        self._apply_studio(desc)
        self._apply_objects(desc)
        self._apply_camera(desc)

    def render(self, desc: SceneDescription) -> RenderPasses:
        started = time.perf_counter()
        self.update(desc)
        path = self.static.workdir / f"{os.getpid()}.exr"
        self.scene.render.filepath = str(path)
        updated = time.perf_counter()
        bpy.ops.render.render(write_still=True)
        rendered = time.perf_counter()
        passes = read_passes(path)
        self.timing = {
            "scene": updated - started,
            "cycles": rendered - updated,
            "readback": time.perf_counter() - rendered,
        }
        return passes

    def silhouettes(self) -> dict[int, float | None]:
        """Pixels of each procedural object's whole silhouette in the scene last updated (by pass index;
        see `feint.render.visibility`); user models are not in it. `matrix_basis` is the object's own
        placement, which is its world matrix: slots and the camera have no parent."""
        camera, r = self.static.camera, self.scene.render
        camera_matrix = np.array(camera.matrix_basis)
        return {
            index: silhouette_area(
                mesh.vertices,
                np.array(slot.matrix_basis),
                camera_matrix,
                camera.data.lens,
                camera.data.sensor_width,
                r.resolution_x,
                r.resolution_y,
            )
            for index, mesh, slot in self._posed
        }

    def _apply_settings(self, desc: SceneDescription) -> None:
        s, r = self.scene, desc.render
        s.render.resolution_x, s.render.resolution_y = r.width, r.height
        s.cycles.samples = r.samples
        s.cycles.use_denoising = r.denoise
        s.cycles.denoising_input_passes = "RGB_ALBEDO_NORMAL" if r.denoise_guides else "RGB"
        s.cycles.max_bounces = r.max_bounces
        s.cycles.seed = desc.seed % (2**31)

    def _apply_world(self, desc: SceneDescription) -> None:
        sky, nodes, sun = desc.sky, self.static.sky, self.static.sun
        elevation, azimuth = math.radians(sky.sun_elevation), math.radians(sky.sun_azimuth)
        direction = Vector(
            (
                math.cos(elevation) * math.cos(azimuth),
                math.cos(elevation) * math.sin(azimuth),
                math.sin(elevation),
            )
        )
        nodes.sky.sun_direction = direction
        nodes.sky.turbidity = min(10.0, 1.8 + 0.5 * sky.air + 0.6 * sky.dust)
        nodes.sky.ground_albedo = 0.2
        sun.rotation_euler = direction.to_track_quat("Z", "Y").to_euler()
        daylight = max(math.sin(elevation), 0.0) ** 0.5
        sun.data.energy = 4.0 * daylight * (1.0 - 0.85 * sky.overcast) * (1.0 - 0.5 * sky.clouds)
        sun.data.angle = math.radians(0.5 + 25.0 * sky.overcast)
        grey = 0.25 + 0.45 * daylight
        nodes.cloud_value.outputs[0].default_value = sky.clouds
        nodes.cloud_noise.inputs["W"].default_value = desc.seed % 1000
        nodes.cloud_color.outputs[0].default_value = (grey * 1.1, grey * 1.1, grey * 1.15, 1.0)
        nodes.overcast_value.outputs[0].default_value = sky.overcast
        nodes.overcast_color.outputs[0].default_value = (grey, grey, grey * 1.05, 1.0)

        sea, water = desc.sea, self.static.sea
        water.plane.hide_render = sea is None
        if sea is None:
            return
        water.color.outputs[0].default_value = (*sea.color, 1.0)
        water.wave_noise.inputs["Scale"].default_value = 1.0 / sea.wave_scale
        water.bump.inputs["Strength"].default_value = 0.05 + 0.5 * sea.waves
        water.foam_noise.inputs["Scale"].default_value = 2.0 / sea.wave_scale
        water.foam_value.outputs[0].default_value = sea.foam * (0.3 + sea.waves)

    def _apply_studio(self, desc: SceneDescription) -> None:
        """The lamps of a close-range set and the room's ambient colour (its world), replacing the sky
        and sun that `_apply_world` set; outdoors (no world colour) the sky and sun stay."""
        studio, sun = desc.studio, self.static.sun
        for lamp in self._lamps:  # off, not hidden: re-shown lights would change Cycles' light order
            lamp.data.energy = 0.0  # and so the noise, making an image depend on the images before it
        if studio is None:
            return
        # Label see-through glass by its first surface (by default index passes skip mostly
        # transparent surfaces), and let rays cross rows of bottles (four see-through surfaces each).
        self.scene.view_layers[0].pass_alpha_threshold = 0.0
        self.scene.cycles.transparent_max_bounces = 32
        sun.data.color = (1.0, 1.0, 1.0)
        if studio.world_color is not None:
            self.static.sky.overcast_value.outputs[0].default_value = 1.0
            self.static.sky.overcast_color.outputs[0].default_value = (*studio.world_color, 1.0)
            sun.data.energy = 0.0
        areas = [light for light in studio.lights if light.kind == "area"]
        while len(self._lamps) < len(areas):
            data = bpy.data.lights.new("feint_lamp", "AREA")
            lamp = bpy.data.objects.new(f"feint_lamp{len(self._lamps)}", data)
            self.scene.collection.objects.link(lamp)
            self._lamps.append(lamp)
        for lamp, light in zip(self._lamps, areas, strict=False):
            lamp.location = light.location
            lamp.rotation_euler = _facing(light)
            lamp.data.energy, lamp.data.size, lamp.data.color = light.energy, light.size, light.color
        for light in studio.lights:
            if light.kind == "sun":
                sun.rotation_euler = Vector(light.location).to_track_quat("Z", "Y").to_euler()
                sun.data.energy, sun.data.color = light.energy, light.color
                sun.data.angle = math.radians(light.size)

    def _apply_objects(self, desc: SceneDescription) -> None:
        """Give each procedural object a slot (a mesh object reused across samples) with a fresh mesh."""
        for root in self._model_roots.values():
            _set_hidden(root, True)
        procedural = [o for o in desc.objects if o.asset.builder is not None]
        for slot in self._slots[len(procedural) :]:
            slot.hide_render = True
        self._posed = []
        for i, desc_obj in enumerate(procedural):
            mesh = warp(build_asset(desc_obj.asset), desc_obj.wear.warp, desc.seed + i)
            slot = self._slot_with_mesh(i, mesh)
            if desc.studio is not None:
                slot.data.set_sharp_from_angle(angle=SMOOTH_ANGLE)
            self._pose(slot, desc_obj)
            self._posed.append((desc_obj.pass_index, mesh, slot))
            if desc_obj is desc.objects[0] and desc.sea is not None:
                self._set_wake(mesh, desc.sea)
        for desc_obj in desc.objects:
            if desc_obj.asset.path is not None:
                root = self._model_root(desc_obj.asset)
                _set_hidden(root, False)
                self._pose(root, desc_obj)
                for child in root.children_recursive:
                    child.pass_index = desc_obj.pass_index

    def _slot_with_mesh(self, i: int, mesh: Mesh) -> bpy.types.Object:
        data = bpy.data.meshes.new(f"feint_mesh{i}")
        _fill_mesh(data, mesh)
        for part in PARTS:
            data.materials.append(self.static.materials[part])
        data.polygons.foreach_set("material_index", mesh.face_parts.astype(np.int32))
        colors = data.color_attributes.new("Col", "FLOAT_COLOR", "FACE")
        rgba = np.column_stack([mesh.face_colors, np.ones(len(mesh.faces))]).astype(np.float32)
        colors.data.foreach_set("color", rgba.ravel())
        data.update()
        if i == len(self._slots):
            slot = bpy.data.objects.new(f"feint_obj{i}", data)
            self.scene.collection.objects.link(slot)
            self._slots.append(slot)
            return slot
        slot = self._slots[i]
        old, slot.data = slot.data, data
        bpy.data.meshes.remove(old)  # keeps memory flat over thousands of samples
        slot.hide_render = False
        return slot

    def _pose(self, obj: bpy.types.Object, desc_obj: SceneObject) -> None:
        p = desc_obj.pose
        obj.location = (p.x, p.y, p.z)
        obj.rotation_euler = Euler((math.radians(p.roll), -math.radians(p.pitch), math.radians(p.yaw)), "XYZ")
        obj.pass_index = desc_obj.pass_index
        obj["rust"], obj["dirt"], obj["snow"] = desc_obj.wear.rust, desc_obj.wear.dirt, desc_obj.wear.snow

    def _set_wake(self, mesh: Mesh, sea: Sea) -> None:
        size, wake = mesh.size, self.static.sea.wake
        wake["strength"].outputs[0].default_value = sea.wake
        wake["half_length"].outputs[0].default_value = size[0] / 2
        wake["beam"].outputs[0].default_value = size[1] / 2 + 0.5

    def _model_root(self, ref: AssetRef) -> bpy.types.Object:
        """Import a user model once, parent it to an empty scaled to the requested length."""
        key = f"{ref.path}:{ref.length}"
        if key in self._model_roots:
            return self._model_roots[key]
        before = set(bpy.data.objects)
        _import_model(ref.path)
        imported = [o for o in bpy.data.objects if o not in before]
        root = bpy.data.objects.new(f"feint_model{len(self._model_roots)}", None)
        self.scene.collection.objects.link(root)
        for obj in imported:
            if obj.name not in self.scene.collection.all_objects:
                self.scene.collection.objects.link(obj)
            if obj.parent is None:
                obj.parent = root
        meshes = [o for o in imported if o.type == "MESH"]
        if ref.length and meshes:
            bpy.context.view_layer.update()
            xs = [(o.matrix_world @ Vector(c)).x for o in meshes for c in o.bound_box]
            root.scale = (ref.length / max(max(xs) - min(xs), 1e-6),) * 3
        self._model_roots[key] = root
        return root

    def _apply_camera(self, desc: SceneDescription) -> None:
        c, camera = desc.camera, self.static.camera
        camera.location = c.location
        direction = Vector(c.look_at) - Vector(c.location)
        rot = direction.to_track_quat("-Z", "Y").to_euler()
        camera.rotation_euler = rot
        camera.rotation_mode = "XYZ"
        if c.roll:
            camera.rotation_euler.rotate_axis("Z", math.radians(c.roll))
        camera.data.lens = c.focal_length
        camera.data.sensor_width = c.sensor_width
        camera.data.clip_start = max(0.05, 0.001 * direction.length)
        camera.data.clip_end = c.clip_end


def _facing(light: Light) -> Euler:
    """The rotation that points an area light (which shines along its -z) at its target."""
    return (Vector(light.target) - Vector(light.location)).to_track_quat("-Z", "Y").to_euler()


def _set_hidden(obj: bpy.types.Object, hidden: bool) -> None:
    obj.hide_render = hidden
    for child in obj.children_recursive:
        child.hide_render = hidden


def _import_model(path: str | None) -> None:
    suffix = Path(str(path)).suffix.lower()
    if suffix in (".glb", ".gltf"):
        bpy.ops.import_scene.gltf(filepath=str(path))
    elif suffix == ".obj":
        bpy.ops.wm.obj_import(filepath=str(path))
    elif suffix == ".blend":
        with bpy.data.libraries.load(str(path)) as (src, dst):
            dst.objects = list(src.objects)
    else:
        raise ValueError(f"{path}: unsupported model format {suffix}")


def _fill_mesh(data: bpy.types.Mesh, mesh: Mesh) -> None:
    """What `Mesh.from_pydata(vertices, [], faces)` does, from numpy buffers: the same mesh (vertices,
    loops, polygons, flat shading, edges computed from the polygons) without turning every coordinate and
    index into a Python tuple first (a third of the scene update of a ship image)."""
    lengths = np.fromiter((len(f) for f in mesh.faces), dtype=np.int32, count=len(mesh.faces))
    data.vertices.add(len(mesh.vertices))
    data.loops.add(int(lengths.sum()))
    data.polygons.add(len(lengths))
    data.vertices.foreach_set("co", mesh.vertices.astype(np.float32).ravel())
    starts = np.zeros(len(lengths), dtype=np.int32)
    np.cumsum(lengths[:-1], out=starts[1:])
    data.polygons.foreach_set("loop_start", starts)
    indices = np.fromiter(itertools.chain.from_iterable(mesh.faces), dtype=np.int32, count=int(lengths.sum()))
    data.polygons.foreach_set("vertices", indices)
    data.shade_flat()
    if len(lengths):
        data.update(calc_edges=True, calc_edges_loose=False)
