"""Rendering: the Blender backend by stage (`scene_setup`, `materials` and `nodes` build a worker's scene
once, `apply` sets it per sample and renders, `passes` reads the EXR back), pixel effects (`post`), labels,
workers, the dataset driver (`dataset`: workers, progress, resume) with what it is asked (`job`) and the
files it assembles at the end (`finalize`). Only the first four import `bpy`."""
