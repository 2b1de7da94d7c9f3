"""The Embedding map: backbone features of renders and photos projected to 2-D, to see where renders sit among
the photos they should stand in for (and which classes overlap).

Features are read from feint's feature cache, never computed (a page must not start minutes of backbone work
on a laptop); an image without cached features is counted and said, not drawn. The sources are a study (its
train/val/test photos and its renders, at its own backbone and image size) and any datasets under the
folders, at a chosen backbone and size. The projection (PCA of the unit-length features, or t-SNE) is made
here; the browser draws the scatter and its selection.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from feint.errors import FeintError
from feint.ui import catalog
from feint.ui.roots import Roots
from feint.ui.web import checked, page, roots

router = APIRouter()
DEFAULT_BACKBONE = "efficientnet_lite0"
DEFAULT_SIZE = 224  # `feint train`'s default input size
MAX_PER_SOURCE = 3000  # a source with more images is thinned evenly: the map stays quick to draw
MAX_TSNE = 6000  # t-SNE beyond this takes minutes; PCA then


@dataclass
class Source:
    """Images of one colour of the map: a study's photos of one role or its renders, or a dataset."""

    name: str
    kind: str  # "photo" or "render"
    files: list[str]
    labels: list[str]


def study_sources(folder: Path) -> tuple[list[Source], str, int]:
    """A study's sources (train, val and test photos, renders: images.csv) and its backbone and image size."""
    from feint.ui.studies import read_study

    study = read_study(folder)
    images = study.images
    if images is None:
        raise FeintError(
            f"{folder}: no images.csv; the embedding map of a study needs a study run with this feint version"
        )
    name = study.spec.get("name", folder.name)
    sources = []
    for role, title, kind in (
        ("train", "train photos", "photo"),
        ("val", "val photos", "photo"),
        ("test", "test photos", "photo"),
        ("synthetic", "renders", "render"),
    ):
        part = images[images.role == role]
        if len(part):
            sources.append(Source(f"{name} · {title}", kind, list(part.file), list(part.label.fillna(""))))
    return sources, study.spec["backbone"], int(study.spec["image_size"])


def dataset_source(folder: Path) -> Source:
    """Every image of a dataset `feint data` reads, by class; renders if its records say they are rendered."""
    from feint.datasets.formats import load_dataset

    dataset = load_dataset(folder)
    records = dataset.records
    synthetic = sum(r.source == "synthetic" for r in records) > len(records) / 2
    return Source(
        folder.name,
        "render" if synthetic else "photo",
        [str(r.image) for r in records],
        [r.primary_class or "" for r in records],
    )


def thinned(n: int, limit: int) -> np.ndarray:
    """At most `limit` of n positions, evenly spread (the same every time)."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def project(features: np.ndarray, method: str) -> np.ndarray:
    """2-D coordinates of the unit-length features (cosine geometry, as the nearest renders use)."""
    unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(max(2.0, min(30.0, (len(unit) - 1) / 3)))
        return np.asarray(TSNE(2, perplexity=perplexity, init="pca", random_state=0).fit_transform(unit))
    from sklearn.decomposition import PCA

    return np.asarray(PCA(2, random_state=0).fit_transform(unit))


def embed(
    sources: list[Source], backbone: str, size: int, method: str, readable: Roots, limit: int = MAX_PER_SOURCE
) -> dict[str, Any]:
    """The map's points (2-D position, source, class, file) and per source how many images were drawn, had
    no cached features, or lay outside the folders given to feint ui."""
    from feint.training.cache import cached_feature_rows

    classes = sorted({label for s in sources for label in s.labels if label})
    points: list[dict[str, Any]] = []
    features: list[np.ndarray] = []
    counts = []
    for index, source in enumerate(sources):
        keep = thinned(len(source.files), limit)
        files = [source.files[i] for i in keep]
        open_at = [i for i, f in enumerate(files) if readable.allows(f)]
        found, rows = cached_feature_rows([Path(files[i]) for i in open_at], backbone, size)
        for j in found:
            i = open_at[int(j)]
            label = source.labels[int(keep[i])]
            points.append({"s": index, "c": classes.index(label) if label else -1, "file": files[i]})
        if len(found):
            features.append(rows)
        counts.append(
            {
                "name": source.name,
                "kind": source.kind,
                "images": len(source.files),
                "drawn": len(found),
                "thinned": len(source.files) - len(files),
                "outside": len(files) - len(open_at),
                "uncached": len(open_at) - len(found),
            }
        )
    if len(points) < 3:
        raise FeintError(
            f"only {len(points)} of the images have {backbone} features at {size} px in the feature cache: "
            "too few to draw (feint ui only reads the cache; `feint train` or `feint study run` with this "
            "backbone and size fills it)"
        )
    chosen = "tsne" if method == "tsne" and len(points) <= MAX_TSNE else "pca"
    xy = project(np.concatenate(features), chosen)
    for point, (x, y) in zip(points, xy, strict=True):
        point["x"], point["y"] = round(float(x), 5), round(float(y), 5)
    return {
        "points": points,
        "sources": counts,
        "classes": classes,
        "features": f"{backbone} at {size} px",
        "method": chosen,
    }


@router.get("/embedding", response_class=HTMLResponse)
def embedding_page(request: Request) -> HTMLResponse:
    """The map's controls (study, datasets, backbone, size, projection); the browser asks /api/embedding."""
    from feint.training.backbones import list_backbones

    entries = catalog.scan(roots(request))
    return page(
        request,
        "embedding.html",
        studies=[e for e in entries if e.kind == "study"],
        datasets=[e for e in entries if e.kind == "dataset"],
        backbones=list_backbones(),
        default_backbone=DEFAULT_BACKBONE,
        default_size=DEFAULT_SIZE,
    )


@router.get("/api/embedding")
def embedding_json(
    request: Request,
    study: str | None = None,
    dataset: list[str] = Query(default=[]),
    backbone: str = DEFAULT_BACKBONE,
    size: int = Query(default=DEFAULT_SIZE, ge=16, le=1024),
    method: str = Query(default="pca", pattern="^(pca|tsne)$"),
) -> dict[str, Any]:
    """The points of a study and/or datasets. With a study, its own backbone and image size are used for
    every source (one feature space)."""
    sources: list[Source] = []
    if study:
        sources, backbone, size = study_sources(checked(request, study))
    sources += [dataset_source(checked(request, d)) for d in dataset if d]
    if not sources:
        raise FeintError("choose a study or at least one dataset")
    return embed(sources, backbone, size, method, roots(request))
