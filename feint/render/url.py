"""A dataset rendered into an fsspec URL (s3://, gs://, file://, ...): the output folder of a cluster render.

Each Ray worker delivers its image and then its record straight to the URL (`feint.render.worker.
init_ray_worker`); the record's presence is what marks image i done, exactly as in a local folder. The
driver keeps the records (small JSON) in a temporary local copy, builds annotations.json, params.parquet
and the card from them as for a local render, and uploads those.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from feint.distributed.storage import Remote, open_output
from feint.errors import FeintError
from feint.io import write_bytes_atomic
from feint.render.dataset import OUTPUT_FILES, ray_render_device, render_dataset
from feint.render.job import RenderJob

STATE_FILES = ("render.json", "dataset.json")  # what the driver reads back on --resume
PREVIEW_SOURCE = 48  # images fetched to draw the preview: enough for every class to show


def render_to_url(job: RenderJob, url: str, progress: bool = True) -> dict[str, Any]:
    """Render (or finish, with job.resume) the dataset at `url` on Ray workers; returns the card."""
    from feint.distributed import connect

    remote = open_output(url, job.executor)
    connect(job.address)
    if remote.is_empty():  # render.json first, as locally: an interrupted render can then be resumed
        spec = job.spec(ray_render_device(job).family)
        remote.write("render.json", (json.dumps(spec, indent=2) + "\n").encode())
    elif not job.resume:
        raise FeintError(f"{url}: output folder is not empty; pass --resume to finish it, or pick a new")
    elif not remote.exists("render.json"):
        raise FeintError(f"{url}: not a feint render folder (no render.json); pick an empty folder")
    with tempfile.TemporaryDirectory(prefix="feint-url-") as tmp:
        mirror = Path(tmp) / (remote.root.rsplit("/", 1)[-1] or "dataset")  # the card is named after it
        for name in STATE_FILES:
            if remote.exists(name):
                write_bytes_atomic(mirror / name, remote.read(name))
        for name, data in remote.read_folder("records").items():
            write_bytes_atomic(mirror / "records" / name, data)
        # resume=True: the URL was checked above; the local copy holds its render.json, compared as locally.
        card = render_dataset(replace(job, out=mirror, sink=url, resume=True), progress)
        if card["images"]:
            write_bytes_atomic(mirror / "preview.png", _preview(remote, mirror, Path(tmp) / "preview"))
        for name in OUTPUT_FILES:
            if (mirror / name).exists():
                remote.write(name, (mirror / name).read_bytes())
    return card


def _preview(remote: Remote, mirror: Path, folder: Path) -> bytes:
    """The contact sheet a local render gets, drawn from the first images only (fetched from the URL)."""
    from feint.datasets import load_dataset
    from feint.datasets.preview import preview_png

    coco = json.loads((mirror / "annotations.json").read_text())
    images = coco["images"][:PREVIEW_SOURCE]
    ids = {im["id"] for im in images}
    annotations = [a for a in coco["annotations"] if a["image_id"] in ids]
    subset = {**coco, "images": images, "annotations": annotations}
    for im in images:
        write_bytes_atomic(folder / im["file_name"], remote.read(im["file_name"]))
    write_bytes_atomic(folder / "annotations.json", json.dumps(subset).encode())
    return preview_png(load_dataset(folder, format="coco"), n=24)
