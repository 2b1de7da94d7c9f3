"""Scene set-up: the parts of a worker's Blender scene built once and changed per sample.

Render settings, the part materials, the world (sky, clouds, overcast), the sea with its wake, the camera
and the sun are made here when a worker starts; `feint.render.apply` then only sets their values for each
sample (with Cycles' persistent data on), so a worker pays Blender's start-up cost once, not per image.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bpy

from feint.assets.mesh import PARTS
from feint.render.device import CPU, RenderDevice, use_device
from feint.render.materials import part_material
from feint.render.nodes import Nodes

SEA_SIZE = 200_000.0  # half the side of the sea plane, metres: past every horizon


@dataclass
class SkyNodes:
    """The world's nodes a sample sets: the sky model, cloud cover and colour, overcast and its colour."""

    sky: bpy.types.Node
    cloud_noise: bpy.types.Node
    cloud_value: bpy.types.Node
    cloud_color: bpy.types.Node
    overcast_value: bpy.types.Node
    overcast_color: bpy.types.Node


@dataclass
class SeaNodes:
    """The sea plane and the nodes a sample sets: colour, waves, foam and the wake (by parameter name)."""

    plane: bpy.types.Object
    color: bpy.types.Node
    wave_noise: bpy.types.Node
    bump: bpy.types.Node
    foam_noise: bpy.types.Node
    foam_value: bpy.types.Node
    wake: dict[str, bpy.types.Node]


@dataclass
class StaticScene:
    """What `build_static_scene` made: the handles per-sample application needs."""

    scene: bpy.types.Scene
    workdir: Path
    materials: dict[str, bpy.types.Material]
    sky: SkyNodes
    sea: SeaNodes
    camera: bpy.types.Object
    sun: bpy.types.Object


def build_static_scene(
    threads: int = 0, workdir: str | None = None, device: RenderDevice = CPU, slot: int = 0
) -> StaticScene:
    """A fresh Blender scene with everything every sample shares; `threads` 0: Blender's default; on a GPU
    `device`, this process renders on its GPU number `slot`."""
    bpy.ops.wm.read_factory_settings(use_empty=True)  # resets the preferences too: the device comes after
    scene = bpy.context.scene
    folder = Path(workdir or tempfile.mkdtemp(prefix="feint-render-", dir=_fast_tmp()))
    _setup_render(scene, threads)
    use_device(scene, device, slot)
    materials = {part: part_material(part) for part in PARTS}
    sky = _setup_world(scene)
    sea = _setup_sea(scene)
    camera, sun = _setup_camera_and_sun(scene)
    return StaticScene(scene, folder, materials, sky, sea, camera, sun)


def _setup_render(s: bpy.types.Scene, threads: int) -> None:
    s.render.engine = "CYCLES"
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


def _setup_world(scene: bpy.types.Scene) -> SkyNodes:
    world = bpy.data.worlds.new("feint_world")
    scene.world = world
    # The default 1024 px importance map is rebuilt whenever the sky changes (~2.5 s an image).
    world.cycles.sampling_method = "MANUAL"
    world.cycles.sample_map_resolution = 64
    n = Nodes(world.node_tree)
    tree = world.node_tree
    bg = tree.nodes.get("Background") or n.add("ShaderNodeBackground")
    out = tree.nodes.get("World Output") or n.add("ShaderNodeOutputWorld")
    # Hosek-Wilkie: the physical (Nishita-style) models rebuild a sky table on every change (~0.3 s).
    sky = n.add("ShaderNodeTexSky", sky_type="HOSEK_WILKIE")
    # Clouds: noise on a plane overhead (direction / z), only above the horizon.
    direction = n.add("ShaderNodeTexCoord").outputs["Generated"]
    xyz = n.add("ShaderNodeSeparateXYZ")
    n.link(direction, xyz.inputs[0])
    z = n.math("MAXIMUM", xyz.outputs["Z"], 0.03)
    plane = n.add("ShaderNodeCombineXYZ")
    n.link(n.math("DIVIDE", xyz.outputs["X"], z), plane.inputs["X"])
    n.link(n.math("DIVIDE", xyz.outputs["Y"], z), plane.inputs["Y"])
    cloud_noise = n.noise(plane.outputs[0], 0.6, 3.0)
    cloud_noise.noise_dimensions = "4D"  # the 4th coordinate varies the clouds per image
    cloud_value = n.add("ShaderNodeValue")
    cover = n.threshold(cloud_noise.outputs["Fac"], cloud_value.outputs[0], 5.0)
    above = n.math("GREATER_THAN", xyz.outputs["Z"], 0.0)
    fade = n.math("MINIMUM", n.math("MULTIPLY", xyz.outputs["Z"], 12.0), 1.0)
    cloud_mask = n.math("MULTIPLY", n.math("MULTIPLY", cover, above), fade)
    cloud_color = n.add("ShaderNodeRGB")
    color = n.mix_color(cloud_mask, sky.outputs["Color"], cloud_color.outputs[0])
    overcast_value = n.add("ShaderNodeValue")
    overcast_color = n.add("ShaderNodeRGB")
    color = n.mix_color(overcast_value.outputs[0], color, overcast_color.outputs[0])
    n.link(color, bg.inputs["Color"])
    n.link(bg.outputs[0], out.inputs[0])
    return SkyNodes(sky, cloud_noise, cloud_value, cloud_color, overcast_value, overcast_color)


def _setup_sea(scene: bpy.types.Scene) -> SeaNodes:
    size = SEA_SIZE
    mesh = bpy.data.meshes.new("feint_sea")
    mesh.from_pydata(
        [(-size, -size, 0), (size, -size, 0), (size, size, 0), (-size, size, 0)], [], [(0, 1, 2, 3)]
    )
    plane = bpy.data.objects.new("feint_sea", mesh)
    scene.collection.objects.link(plane)
    mat = bpy.data.materials.new("feint_sea")
    n = Nodes(mat.node_tree)
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["IOR"].default_value = 1.333
    coords = n.add("ShaderNodeTexCoord").outputs["Object"]
    wave_noise = n.noise(coords, 0.1, 3.0)
    wave_noise.inputs["Roughness"].default_value = 0.6
    bump = n.add("ShaderNodeBump")
    bump.inputs["Distance"].default_value = 1.0
    n.link(wave_noise.outputs["Fac"], bump.inputs["Height"])
    n.link(bump.outputs["Normal"], bsdf.inputs["Normal"])
    foam_noise = n.noise(coords, 0.3, 3.0)
    foam_value = n.add("ShaderNodeValue")
    color = n.add("ShaderNodeRGB")
    foam = n.threshold(foam_noise.outputs["Fac"], foam_value.outputs[0], 12.0)
    wake, wake_params = _wake_mask(n, coords)
    whites = n.math("MAXIMUM", foam, wake)
    n.link(n.mix_color(whites, color.outputs[0], (0.7, 0.72, 0.72)), bsdf.inputs["Base Color"])
    n.link(n.math("ADD", n.math("MULTIPLY", whites, 0.7), 0.05, clamp=True), bsdf.inputs["Roughness"])
    mesh.materials.append(mat)
    return SeaNodes(plane, color, wave_noise, bump, foam_noise, foam_value, wake_params)


def _wake_mask(
    n: Nodes, coords: bpy.types.NodeSocket
) -> tuple[bpy.types.NodeSocket, dict[str, bpy.types.Node]]:
    """Foam around the ship's hull and in a widening trail astern (ship along +x at the origin), and the
    value nodes that set it per sample (strength, half_length, beam)."""
    xyz = n.add("ShaderNodeSeparateXYZ")
    n.link(coords, xyz.inputs[0])
    params = {k: n.add("ShaderNodeValue") for k in ("strength", "half_length", "beam")}
    hl, beam = params["half_length"].outputs[0], params["beam"].outputs[0]
    behind = n.math("SUBTRACT", n.math("MULTIPLY", hl, -1.0), xyz.outputs["X"])  # metres astern of the stern
    astern = n.math("GREATER_THAN", behind, 0.0)
    width = n.math("ADD", beam, n.math("MULTIPLY", n.math("MAXIMUM", behind, 0.0), 0.25))
    inside = n.math("LESS_THAN", n.math("ABSOLUTE", xyz.outputs["Y"]), width)
    fade = n.math("EXPONENT", n.math("DIVIDE", n.math("MULTIPLY", behind, -1.0), n.math("MULTIPLY", hl, 4.0)))
    trail = n.math("MULTIPLY", n.math("MULTIPLY", astern, inside), fade)
    along_hull = n.math("LESS_THAN", n.math("ABSOLUTE", xyz.outputs["X"]), hl)
    near = n.math("LESS_THAN", n.math("ABSOLUTE", xyz.outputs["Y"]), n.math("MULTIPLY", beam, 0.8))
    hull_foam = n.math("MULTIPLY", along_hull, near)
    texture = n.noise(coords, 0.8, 2.0).outputs["Fac"]
    mask = n.math("MULTIPLY", n.math("MAXIMUM", trail, hull_foam), texture)
    strength = n.math("MULTIPLY", n.math("MULTIPLY", mask, params["strength"].outputs[0]), 2.0, clamp=True)
    return strength, params


def _setup_camera_and_sun(scene: bpy.types.Scene) -> tuple[bpy.types.Object, bpy.types.Object]:
    cam = bpy.data.cameras.new("feint_camera")
    cam.sensor_fit = "HORIZONTAL"
    camera = bpy.data.objects.new("feint_camera", cam)
    scene.collection.objects.link(camera)
    scene.camera = camera
    light = bpy.data.lights.new("feint_sun", "SUN")
    sun = bpy.data.objects.new("feint_sun", light)
    scene.collection.objects.link(sun)
    return camera, sun


def _fast_tmp() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
