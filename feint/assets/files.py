"""The user's own 3D models: a class can point at a folder of glTF/GLB, OBJ or .blend files."""

from __future__ import annotations

from pathlib import Path

from feint.errors import FeintError

MODEL_SUFFIXES = (".glb", ".gltf", ".obj", ".blend")


def list_model_files(folder: str | Path) -> list[Path]:
    """The model files of a folder, sorted so a seed always picks the same file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FeintError(f"{folder}: model folder not found")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in MODEL_SUFFIXES)
    if not files:
        raise FeintError(f"{folder}: no model files ({', '.join(MODEL_SUFFIXES)}) in this folder")
    return files
