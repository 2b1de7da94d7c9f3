"""The only module that imports `bpy`: turns a `SceneDescription` into a Blender scene and renders it.

A `BlenderScene` builds the static parts once (world, sea, sun, camera, materials) and changes them per
sample, with Cycles' persistent data on, so a worker pays Blender's start-up cost once, not per image.
It returns the raw passes (linear colour, object index, depth); pixel effects live in `post.py`.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np
import OpenEXR
from mathutils import Euler, Vector

from feint.assets import build_asset
from feint.assets.mesh import PARTS, Mesh
from feint.assets.modifiers import warp
from feint.scene.description import AssetRef, Light, SceneDescription, SceneObject

BLENDER_VERSION = bpy.app.version_string

# Per material part: (roughness, metallic, takes rust/dirt, specular level)
PART_SHADING: dict[str, tuple[float, float, bool, float]] = {
    "hull": (0.45, 0.0, True, 0.5),
    "deck": (0.8, 0.0, True, 0.3),
    "superstructure": (0.4, 0.0, True, 0.5),
    "window": (0.05, 0.0, False, 0.8),
    "metal": (0.35, 0.4, True, 0.5),
    "sail": (0.85, 0.0, False, 0.2),
    "rubber": (0.9, 0.0, False, 0.2),
    "cargo": (0.55, 0.0, True, 0.4),
    "wood": (0.7, 0.0, False, 0.3),
    "ground": (0.9, 0.0, False, 0.2),
    "glass": (0.02, 0.0, False, 1.0),  # see-through parts: (gloss roughness, -, -, reflection)
    "pet": (0.08, 0.0, False, 0.8),
    "liquid": (0.02, 0.0, False, 0.5),
    "label": (0.5, 0.0, False, 0.4),
    "plastic": (0.35, 0.0, False, 0.5),
}
SEE_THROUGH = {"glass": 1.5, "pet": 1.57, "liquid": 1.33}  # part: index of refraction (for Fresnel)
SMOOTH_ANGLE = math.radians(40)  # close-range sets: smooth-shade turned bodies, keep box edges sharp
RUST = (0.13, 0.045, 0.015)
SNOW = (0.85, 0.87, 0.9)


@dataclass
class RenderPasses:
    """Raw render output: linear RGB (H, W, 3), object index (H, W) int, camera depth (H, W) metres."""

    rgb: np.ndarray
    index: np.ndarray
    depth: np.ndarray


class _Nodes:
    """Small helper to add and link shader nodes without index soup."""

    def __init__(self, tree: bpy.types.NodeTree):
        self.tree = tree

    def add(self, kind: str, **props: object) -> bpy.types.Node:
        node = self.tree.nodes.new(kind)
        for key, value in props.items():
            setattr(node, key, value)
        return node

    def link(self, out: bpy.types.NodeSocket, into: bpy.types.NodeSocket) -> None:
        self.tree.links.new(out, into)

    def math(self, op: str, a: object, b: object = 0.0, clamp: bool = False) -> bpy.types.NodeSocket:
        node = self.add("ShaderNodeMath", operation=op, use_clamp=clamp)
        for i, value in enumerate((a, b)):
            if isinstance(value, bpy.types.NodeSocket):
                self.link(value, node.inputs[i])
            else:
                node.inputs[i].default_value = value
        return node.outputs[0]

    def mix_color(self, fac: object, a: object, b: object) -> bpy.types.NodeSocket:
        node = self.add("ShaderNodeMix", data_type="RGBA")
        for socket, value in ((node.inputs[0], fac), (node.inputs[6], a), (node.inputs[7], b)):
            if isinstance(value, bpy.types.NodeSocket):
                self.link(value, socket)
            else:
                socket.default_value = value if not isinstance(value, tuple) else (*value, 1.0)
        return node.outputs[2]

    def noise(self, vector: bpy.types.NodeSocket, scale: float, detail: float = 4.0) -> bpy.types.Node:
        node = self.add("ShaderNodeTexNoise")
        node.inputs["Scale"].default_value = scale
        node.inputs["Detail"].default_value = detail
        self.link(vector, node.inputs["Vector"])
        return node

    def threshold(self, value: bpy.types.NodeSocket, cover: object, sharpness: float) -> bpy.types.NodeSocket:
        """clamp((value - (1 - cover)) * sharpness): a share `cover` of a noise field becomes 1."""
        return self.math(
            "MULTIPLY", self.math("SUBTRACT", value, self.math("SUBTRACT", 1.0, cover)), sharpness, clamp=True
        )


class BlenderScene:
    """A persistent Blender scene for one worker process."""

    def __init__(self, threads: int = 0, workdir: str | None = None):
        bpy.ops.wm.read_factory_settings(use_empty=True)
        self.scene = bpy.context.scene
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="feint-render-", dir=_fast_tmp()))
        self._setup_render(threads)
        self._materials = {part: self._part_material(part) for part in PARTS}
        self._setup_world()
        self._setup_sea()
        self._setup_camera_and_sun()
        self._slots: list[bpy.types.Object] = []
        self._model_roots: dict[str, bpy.types.Object] = {}
        self._lamps: list[bpy.types.Object] = []  # area lights of close-range sets, made on first use

    # ----- static setup ---------------------------------------------------------------------------
    def _setup_render(self, threads: int) -> None:
        s = self.scene
        s.render.engine = "CYCLES"
        s.cycles.device = "CPU"
        s.cycles.use_adaptive_sampling = False
        s.cycles.denoiser = "OPENIMAGEDENOISE"
        s.cycles.seed = 0
        s.cycles.use_light_tree = False  # one sun and a sky: the light tree only adds traversal cost
        s.cycles.caustics_reflective = False
        s.cycles.caustics_refractive = False
        s.render.use_persistent_data = True
        s.render.resolution_percentage = 100
        s.render.film_transparent = False
        s.view_settings.view_transform = "Standard"
        if threads > 0:
            s.render.threads_mode = "FIXED"
            s.render.threads = threads
        layer = s.view_layers[0]
        layer.use_pass_object_index = True
        layer.use_pass_z = True
        s.render.image_settings.media_type = "MULTI_LAYER_IMAGE"
        s.render.image_settings.file_format = "OPEN_EXR_MULTILAYER"
        s.render.image_settings.exr_codec = "NONE"
        s.render.image_settings.color_depth = "32"

    def _part_material(self, part: str) -> bpy.types.Material:
        if part in SEE_THROUGH:
            return self._see_through_material(part)
        roughness, metallic, weathers, specular = PART_SHADING[part]
        mat = bpy.data.materials.new(f"feint_{part}")
        n = _Nodes(mat.node_tree)
        bsdf = mat.node_tree.nodes["Principled BSDF"]
        color = n.add("ShaderNodeAttribute", attribute_type="GEOMETRY", attribute_name="Col").outputs["Color"]
        coords = n.add("ShaderNodeTexCoord").outputs["Object"]
        rough: object = roughness
        if weathers:
            obj = {
                k: n.add("ShaderNodeAttribute", attribute_type="OBJECT", attribute_name=k).outputs["Fac"]
                for k in ("rust", "dirt")
            }
            rust = n.threshold(
                n.noise(coords, 0.35, 3.0).outputs["Fac"], n.math("MULTIPLY", obj["rust"], 0.6), 6.0
            )
            color = n.mix_color(rust, color, RUST)
            grime = n.math("MULTIPLY", n.noise(coords, 0.08, 2.0).outputs["Fac"], obj["dirt"])
            color = n.mix_color(n.math("MULTIPLY", grime, 0.7), color, (0.02, 0.018, 0.015))
            rough = n.math("ADD", roughness, n.math("MULTIPLY", rust, 0.4), clamp=True)
        snow_amount = n.add("ShaderNodeAttribute", attribute_type="OBJECT", attribute_name="snow").outputs[
            "Fac"
        ]
        up = n.add("ShaderNodeSeparateXYZ")
        n.link(n.add("ShaderNodeNewGeometry").outputs["Normal"], up.inputs[0])
        snow = n.math(
            "MULTIPLY",
            n.math("MULTIPLY", n.math("SUBTRACT", up.outputs["Z"], 0.55), 4.0, clamp=True),
            snow_amount,
        )
        color = n.mix_color(snow, color, SNOW)
        n.link(color, bsdf.inputs["Base Color"])
        if isinstance(rough, bpy.types.NodeSocket):
            n.link(rough, bsdf.inputs["Roughness"])
        else:
            bsdf.inputs["Roughness"].default_value = rough
        bsdf.inputs["Metallic"].default_value = metallic
        bsdf.inputs["Specular IOR Level"].default_value = specular
        return mat

    def _see_through_material(self, part: str) -> bpy.types.Material:
        """Glass, PET or a drink: light passes straight through, tinted by the face colour (twice as
        much at grazing angles, where the path through the wall is longer), under a Fresnel reflection.

        Straight-through transparency rather than refraction: bottles are thin shells, and a refracting
        solid would look like a glass lens, go black past `max_bounces` and need many more samples."""
        roughness, _, _, reflection = PART_SHADING[part]
        mat = bpy.data.materials.new(f"feint_{part}")
        tree = mat.node_tree
        n = _Nodes(tree)
        tree.nodes.remove(tree.nodes["Principled BSDF"])
        tint = n.add("ShaderNodeAttribute", attribute_type="GEOMETRY", attribute_name="Col").outputs["Color"]
        square = n.add("ShaderNodeMix", data_type="RGBA", blend_type="MULTIPLY")
        square.inputs[0].default_value = 1.0
        n.link(tint, square.inputs[6])
        n.link(tint, square.inputs[7])
        facing = n.add("ShaderNodeLayerWeight").outputs["Facing"]  # 0 head-on .. 1 grazing, both sides
        transparent = n.add("ShaderNodeBsdfTransparent")
        edge_tint = n.mix_color(n.math("POWER", facing, 2.0), tint, square.outputs[2])
        n.link(edge_tint, transparent.inputs["Color"])
        glossy = n.add("ShaderNodeBsdfGlossy")
        glossy.inputs["Roughness"].default_value = roughness
        # Schlick's Fresnel, the same on both walls of the shell (the Fresnel node would treat the far
        # wall as seen from inside a solid and mirror it beyond the critical angle).
        f0 = ((SEE_THROUGH[part] - 1) / (SEE_THROUGH[part] + 1)) ** 2
        fresnel = n.math("ADD", n.math("MULTIPLY", n.math("POWER", facing, 5.0), 1 - f0), f0)
        mix = n.add("ShaderNodeMixShader")
        n.link(n.math("MULTIPLY", fresnel, reflection, clamp=True), mix.inputs[0])
        n.link(transparent.outputs[0], mix.inputs[1])
        n.link(glossy.outputs[0], mix.inputs[2])
        n.link(mix.outputs[0], tree.nodes["Material Output"].inputs["Surface"])
        return mat

    def _setup_world(self) -> None:
        world = bpy.data.worlds.new("feint_world")
        self.scene.world = world
        # The default 1024 px importance map is rebuilt whenever the sky changes (~2.5 s an image).
        world.cycles.sampling_method = "MANUAL"
        world.cycles.sample_map_resolution = 64
        n = _Nodes(world.node_tree)
        tree = world.node_tree
        bg = tree.nodes.get("Background") or n.add("ShaderNodeBackground")
        out = tree.nodes.get("World Output") or n.add("ShaderNodeOutputWorld")
        # Hosek-Wilkie: the physical (Nishita-style) models rebuild a sky table on every change (~0.3 s).
        self.sky = n.add("ShaderNodeTexSky", sky_type="HOSEK_WILKIE")
        # Clouds: noise on a plane overhead (direction / z), only above the horizon.
        direction = n.add("ShaderNodeTexCoord").outputs["Generated"]
        xyz = n.add("ShaderNodeSeparateXYZ")
        n.link(direction, xyz.inputs[0])
        z = n.math("MAXIMUM", xyz.outputs["Z"], 0.03)
        plane = n.add("ShaderNodeCombineXYZ")
        n.link(n.math("DIVIDE", xyz.outputs["X"], z), plane.inputs["X"])
        n.link(n.math("DIVIDE", xyz.outputs["Y"], z), plane.inputs["Y"])
        self.cloud_noise = n.noise(plane.outputs[0], 0.6, 3.0)
        self.cloud_noise.noise_dimensions = "4D"  # the 4th coordinate varies the clouds per image
        self.cloud_value = n.add("ShaderNodeValue")
        cover = n.threshold(self.cloud_noise.outputs["Fac"], self.cloud_value.outputs[0], 5.0)
        above = n.math("GREATER_THAN", xyz.outputs["Z"], 0.0)
        fade = n.math("MINIMUM", n.math("MULTIPLY", xyz.outputs["Z"], 12.0), 1.0)
        cloud_mask = n.math("MULTIPLY", n.math("MULTIPLY", cover, above), fade)
        self.cloud_color = n.add("ShaderNodeRGB")
        sky = n.mix_color(cloud_mask, self.sky.outputs["Color"], self.cloud_color.outputs[0])
        self.overcast_value = n.add("ShaderNodeValue")
        self.overcast_color = n.add("ShaderNodeRGB")
        sky = n.mix_color(self.overcast_value.outputs[0], sky, self.overcast_color.outputs[0])
        n.link(sky, bg.inputs["Color"])
        n.link(bg.outputs[0], out.inputs[0])
        self.world_bg = bg

    def _setup_sea(self) -> None:
        size = 200_000.0
        mesh = bpy.data.meshes.new("feint_sea")
        mesh.from_pydata(
            [(-size, -size, 0), (size, -size, 0), (size, size, 0), (-size, size, 0)], [], [(0, 1, 2, 3)]
        )
        self.sea = bpy.data.objects.new("feint_sea", mesh)
        self.scene.collection.objects.link(self.sea)
        mat = bpy.data.materials.new("feint_sea")
        n = _Nodes(mat.node_tree)
        bsdf = mat.node_tree.nodes["Principled BSDF"]
        bsdf.inputs["IOR"].default_value = 1.333
        coords = n.add("ShaderNodeTexCoord").outputs["Object"]
        self.wave_noise = n.noise(coords, 0.1, 3.0)
        self.wave_noise.inputs["Roughness"].default_value = 0.6
        self.bump = n.add("ShaderNodeBump")
        self.bump.inputs["Distance"].default_value = 1.0
        n.link(self.wave_noise.outputs["Fac"], self.bump.inputs["Height"])
        n.link(self.bump.outputs["Normal"], bsdf.inputs["Normal"])
        self.foam_noise = n.noise(coords, 0.3, 3.0)
        self.foam_value = n.add("ShaderNodeValue")
        self.sea_color = n.add("ShaderNodeRGB")
        foam = n.threshold(self.foam_noise.outputs["Fac"], self.foam_value.outputs[0], 12.0)
        wake = self._wake_mask(n, coords)
        whites = n.math("MAXIMUM", foam, wake)
        n.link(n.mix_color(whites, self.sea_color.outputs[0], (0.7, 0.72, 0.72)), bsdf.inputs["Base Color"])
        n.link(n.math("ADD", n.math("MULTIPLY", whites, 0.7), 0.05, clamp=True), bsdf.inputs["Roughness"])
        mesh.materials.append(mat)
        self.sea_bsdf = bsdf

    def _wake_mask(self, n: _Nodes, coords: bpy.types.NodeSocket) -> bpy.types.NodeSocket:
        """Foam around the ship's hull and in a widening trail astern (ship along +x at the origin)."""
        xyz = n.add("ShaderNodeSeparateXYZ")
        n.link(coords, xyz.inputs[0])
        self.wake_params = {k: n.add("ShaderNodeValue") for k in ("strength", "half_length", "beam")}
        hl, beam = self.wake_params["half_length"].outputs[0], self.wake_params["beam"].outputs[0]
        behind = n.math(
            "SUBTRACT", n.math("MULTIPLY", hl, -1.0), xyz.outputs["X"]
        )  # metres astern of the stern
        astern = n.math("GREATER_THAN", behind, 0.0)
        width = n.math("ADD", beam, n.math("MULTIPLY", n.math("MAXIMUM", behind, 0.0), 0.25))
        inside = n.math("LESS_THAN", n.math("ABSOLUTE", xyz.outputs["Y"]), width)
        fade = n.math(
            "EXPONENT", n.math("DIVIDE", n.math("MULTIPLY", behind, -1.0), n.math("MULTIPLY", hl, 4.0))
        )
        trail = n.math("MULTIPLY", n.math("MULTIPLY", astern, inside), fade)
        along_hull = n.math("LESS_THAN", n.math("ABSOLUTE", xyz.outputs["X"]), hl)
        near = n.math("LESS_THAN", n.math("ABSOLUTE", xyz.outputs["Y"]), n.math("MULTIPLY", beam, 0.8))
        hull_foam = n.math("MULTIPLY", along_hull, near)
        texture = n.noise(coords, 0.8, 2.0).outputs["Fac"]
        mask = n.math("MULTIPLY", n.math("MAXIMUM", trail, hull_foam), texture)
        return n.math(
            "MULTIPLY", n.math("MULTIPLY", mask, self.wake_params["strength"].outputs[0]), 2.0, clamp=True
        )

    def _setup_camera_and_sun(self) -> None:
        cam = bpy.data.cameras.new("feint_camera")
        cam.sensor_fit = "HORIZONTAL"
        self.camera = bpy.data.objects.new("feint_camera", cam)
        self.scene.collection.objects.link(self.camera)
        self.scene.camera = self.camera
        light = bpy.data.lights.new("feint_sun", "SUN")
        self.sun = bpy.data.objects.new("feint_sun", light)
        self.scene.collection.objects.link(self.sun)

    # ----- per sample -----------------------------------------------------------------------------
    def render(self, desc: SceneDescription) -> RenderPasses:
        self._apply_settings(desc)
        self._apply_world(desc)
        self._apply_studio(desc)
        self._apply_objects(desc)
        self._apply_camera(desc)
        path = self.workdir / f"{os.getpid()}.exr"
        self.scene.render.filepath = str(path)
        bpy.ops.render.render(write_still=True)
        return _read_passes(path)

    def _apply_settings(self, desc: SceneDescription) -> None:
        s, r = self.scene, desc.render
        s.render.resolution_x, s.render.resolution_y = r.width, r.height
        s.cycles.samples = r.samples
        s.cycles.use_denoising = r.denoise
        s.cycles.denoising_input_passes = "RGB_ALBEDO_NORMAL" if r.denoise_guides else "RGB"
        s.cycles.max_bounces = r.max_bounces
        s.cycles.seed = desc.seed % (2**31)

    def _apply_world(self, desc: SceneDescription) -> None:
        sky = desc.sky
        elevation, azimuth = math.radians(sky.sun_elevation), math.radians(sky.sun_azimuth)
        direction = Vector(
            (
                math.cos(elevation) * math.cos(azimuth),
                math.cos(elevation) * math.sin(azimuth),
                math.sin(elevation),
            )
        )
        self.sky.sun_direction = direction
        self.sky.turbidity = min(10.0, 1.8 + 0.5 * sky.air + 0.6 * sky.dust)
        self.sky.ground_albedo = 0.2
        self.sun.rotation_euler = direction.to_track_quat("Z", "Y").to_euler()
        daylight = max(math.sin(elevation), 0.0) ** 0.5
        self.sun.data.energy = 4.0 * daylight * (1.0 - 0.85 * sky.overcast) * (1.0 - 0.5 * sky.clouds)
        self.sun.data.angle = math.radians(0.5 + 25.0 * sky.overcast)
        grey = 0.25 + 0.45 * daylight
        self.cloud_value.outputs[0].default_value = sky.clouds
        self.cloud_noise.inputs["W"].default_value = desc.seed % 1000
        self.cloud_color.outputs[0].default_value = (grey * 1.1, grey * 1.1, grey * 1.15, 1.0)
        self.overcast_value.outputs[0].default_value = sky.overcast
        self.overcast_color.outputs[0].default_value = (grey, grey, grey * 1.05, 1.0)

        sea = desc.sea
        self.sea.hide_render = sea is None
        if sea is None:
            return
        self.sea_color.outputs[0].default_value = (*sea.color, 1.0)
        self.wave_noise.inputs["Scale"].default_value = 1.0 / sea.wave_scale
        self.bump.inputs["Strength"].default_value = 0.05 + 0.5 * sea.waves
        self.foam_noise.inputs["Scale"].default_value = 2.0 / sea.wave_scale
        self.foam_value.outputs[0].default_value = sea.foam * (0.3 + sea.waves)

    def _apply_studio(self, desc: SceneDescription) -> None:
        """The lamps of a close-range set and the room's ambient colour (its world), replacing the sky
        and sun that `_apply_world` set; outdoors (no world colour) the sky and sun stay."""
        studio = desc.studio
        for lamp in self._lamps:  # off, not hidden: re-shown lights would change Cycles' light order
            lamp.data.energy = 0.0  # and so the noise, making an image depend on the images before it
        if studio is None:
            return
        # Label see-through glass by its first surface (by default index passes skip mostly
        # transparent surfaces), and let rays cross rows of bottles (four see-through surfaces each).
        self.scene.view_layers[0].pass_alpha_threshold = 0.0
        self.scene.cycles.transparent_max_bounces = 32
        self.sun.data.color = (1.0, 1.0, 1.0)
        if studio.world_color is not None:
            self.overcast_value.outputs[0].default_value = 1.0
            self.overcast_color.outputs[0].default_value = (*studio.world_color, 1.0)
            self.sun.data.energy = 0.0
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
                self.sun.rotation_euler = Vector(light.location).to_track_quat("Z", "Y").to_euler()
                self.sun.data.energy, self.sun.data.color = light.energy, light.color
                self.sun.data.angle = math.radians(light.size)

    def _apply_objects(self, desc: SceneDescription) -> None:
        """Give each procedural object a slot (a mesh object reused across samples) with a fresh mesh."""
        for root in self._model_roots.values():
            _set_hidden(root, True)
        procedural = [o for o in desc.objects if o.asset.builder is not None]
        for slot in self._slots[len(procedural) :]:
            slot.hide_render = True
        for i, desc_obj in enumerate(procedural):
            mesh = warp(build_asset(desc_obj.asset), desc_obj.wear.warp, desc.seed + i)
            slot = self._slot_with_mesh(i, mesh)
            if desc.studio is not None:
                slot.data.set_sharp_from_angle(angle=SMOOTH_ANGLE)
            self._pose(slot, desc_obj)
            if desc_obj is desc.objects[0] and desc.sea is not None:
                self._set_wake(mesh, desc)
        for desc_obj in desc.objects:
            if desc_obj.asset.path is not None:
                root = self._model_root(desc_obj.asset)
                _set_hidden(root, False)
                self._pose(root, desc_obj)
                for child in root.children_recursive:
                    child.pass_index = desc_obj.pass_index

    def _slot_with_mesh(self, i: int, mesh: Mesh) -> bpy.types.Object:
        data = bpy.data.meshes.new(f"feint_mesh{i}")
        data.from_pydata(mesh.vertices.tolist(), [], mesh.faces)
        for part in PARTS:
            data.materials.append(self._materials[part])
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

    def _set_wake(self, mesh: Mesh, desc: SceneDescription) -> None:
        size = mesh.size
        self.wake_params["strength"].outputs[0].default_value = desc.sea.wake
        self.wake_params["half_length"].outputs[0].default_value = size[0] / 2
        self.wake_params["beam"].outputs[0].default_value = size[1] / 2 + 0.5

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
        c = desc.camera
        self.camera.location = c.location
        direction = Vector(c.look_at) - Vector(c.location)
        rot = direction.to_track_quat("-Z", "Y").to_euler()
        self.camera.rotation_euler = rot
        self.camera.rotation_mode = "XYZ"
        if c.roll:
            self.camera.rotation_euler.rotate_axis("Z", math.radians(c.roll))
        self.camera.data.lens = c.focal_length
        self.camera.data.sensor_width = c.sensor_width
        self.camera.data.clip_start = max(0.05, 0.001 * direction.length)
        self.camera.data.clip_end = c.clip_end


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


def _read_passes(path: Path) -> RenderPasses:
    channels: dict[str, np.ndarray] = {}
    with OpenEXR.File(str(path)) as exr:
        for part in exr.parts:
            for name, channel in part.channels.items():
                channels[name] = np.array(channel.pixels)
    rgb = channels["ViewLayer.Combined"][..., :3].astype(np.float32)
    index = np.rint(channels["ViewLayer.Object Index.X"]).astype(np.int32)
    depth = channels["ViewLayer.Depth.Z"].astype(np.float32)
    return RenderPasses(rgb, index, depth)


def _fast_tmp() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
