"""The shader of each material part (`feint.assets.mesh.PARTS`): built once per worker, shared by every
mesh. Colours come per face from the asset; rust, dirt and snow per object from its `wear`.
"""

from __future__ import annotations

import bpy

from feint.render.nodes import Nodes

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
RUST = (0.13, 0.045, 0.015)
SNOW = (0.85, 0.87, 0.9)


def part_material(part: str) -> bpy.types.Material:
    if part in SEE_THROUGH:
        return _see_through_material(part)
    roughness, metallic, weathers, specular = PART_SHADING[part]
    mat = bpy.data.materials.new(f"feint_{part}")
    n = Nodes(mat.node_tree)
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
    snow_amount = n.add("ShaderNodeAttribute", attribute_type="OBJECT", attribute_name="snow").outputs["Fac"]
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


def _see_through_material(part: str) -> bpy.types.Material:
    """Glass, PET or a drink: light passes straight through, tinted by the face colour (twice as
    much at grazing angles, where the path through the wall is longer), under a Fresnel reflection.

    Straight-through transparency rather than refraction: bottles are thin shells, and a refracting
    solid would look like a glass lens, go black past `max_bounces` and need many more samples."""
    roughness, _, _, reflection = PART_SHADING[part]
    mat = bpy.data.materials.new(f"feint_{part}")
    tree = mat.node_tree
    n = Nodes(tree)
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
