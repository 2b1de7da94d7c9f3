"""Building Blender shader node trees by name and value: what materials and the world are made of.

A thin helper over `bpy`'s node API, so a material reads as the maths it computes, not as socket-index
bookkeeping.
"""

from __future__ import annotations

import bpy


class Nodes:
    """Add and link the shader nodes of one node tree."""

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
