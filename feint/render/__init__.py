"""Rendering: the Blender backend (`blender.py`, the only bpy import), pixel effects, labels, workers."""
