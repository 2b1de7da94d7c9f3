"""Plain scene descriptions and the sampler that draws them from a graph (no Blender here)."""
