"""Datasets rendered into an fsspec URL (s3://, gs://, file://, ...): the output folder of a cluster render.

Workers on other machines cannot write into the driver's disk, so with `-o URL` each Ray worker delivers
its image and then its record straight to the URL; the record's presence is what marks image i done,
exactly as in a local folder. The driver keeps the records (small JSON) in a temporary local copy, builds
annotations.json, params.parquet and the card from them as for a local render, and uploads those.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feint.errors import FeintError
from feint.io import write_bytes_atomic
from feint.render.worker import record_path

if TYPE_CHECKING:
    from feint.render.dataset import RenderJob

# What the driver reads back on --resume, and what it uploads at the end.
_STATE_FILES = ("render.json", "dataset.json")
_OUTPUT_FILES = ("render.json", "annotations.json", "params.parquet", "dataset.json", "preview.png")
PREVIEW_SOURCE = 48  # images fetched to draw the preview: enough for every class to show


def is_url(target: str | Path) -> bool:
    return "://" in str(target)


class Remote:
    """A folder behind an fsspec URL, written atomically: a file's final name appears only once its content
    is complete (written under a hidden temporary name, then moved; on object stores the move is a copy
    of a finished object, so readers see the whole file or none)."""

    def __init__(self, url: str):
        try:
            import fsspec
        except ImportError:
            raise FeintError(f"{url}: URL outputs need fsspec: pip install 'feint[ray]'") from None
        try:
            self.fs, root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as err:  # no backend for the protocol (s3fs, gcsfs), bad URL
            raise FeintError(f"{url}: cannot open ({err})") from None
        self.root = root.rstrip("/")

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def exists(self, rel: str) -> bool:
        return self.fs.exists(self.path(rel))

    def read(self, rel: str) -> bytes:
        return self.fs.cat_file(self.path(rel))

    def write(self, rel: str, data: bytes) -> None:
        final = self.path(rel)
        parent, name = final.rsplit("/", 1)
        tmp = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
        self.fs.makedirs(parent, exist_ok=True)
        self.fs.pipe_file(tmp, data)
        try:
            self.fs.mv(tmp, final)
        except BaseException:
            self.fs.rm(tmp)
            raise

    def is_empty(self) -> bool:
        return not self.fs.exists(self.root) or not self.fs.ls(self.root)

    def records(self) -> dict[str, bytes]:
        """Every finished record, by name (000042.json); hidden temporaries of unfinished writes left out."""
        folder = self.path("records")
        names = [p for p in self.fs.find(folder) if not p.rsplit("/", 1)[-1].startswith(".")]
        return {p.rsplit("/", 1)[-1]: data for p, data in self.fs.cat(names).items()} if names else {}

    def deliver(self, staging: Path, record: dict[str, Any]) -> None:
        """Upload one finished image, then its record (the record last: it marks the image done); the
        worker's local copies are removed."""
        index = record["index"]
        if not record["failed"]:
            image = staging / record["file_name"]
            self.write(record["file_name"], image.read_bytes())
            image.unlink()
        local = record_path(staging, index)
        self.write(f"records/{local.name}", local.read_bytes())
        local.unlink()


def open_output(url: str, executor: str) -> Remote:
    """The output at `url`, checked before any work starts (executor, fsspec backend such as s3fs)."""
    if executor != "ray":
        raise FeintError(f"{url}: a URL output needs --executor ray (local workers write to a local folder)")
    return Remote(url)


def render_to_url(job: RenderJob, url: str, progress: bool = True) -> dict[str, Any]:
    """Render (or finish, with job.resume) the dataset at `url` on Ray workers; returns the card."""
    from feint.render.dataset import render_dataset

    remote = open_output(url, job.executor)
    if remote.is_empty():  # render.json first, as locally: an interrupted render can then be resumed
        remote.write("render.json", (json.dumps(job.spec(), indent=2) + "\n").encode())
    elif not job.resume:
        raise FeintError(f"{url}: output folder is not empty; pass --resume to finish it, or pick a new")
    elif not remote.exists("render.json"):
        raise FeintError(f"{url}: not a feint render folder (no render.json); pick an empty folder")
    with tempfile.TemporaryDirectory(prefix="feint-url-") as tmp:
        mirror = Path(tmp) / (remote.root.rsplit("/", 1)[-1] or "dataset")  # the card is named after it
        for name in _STATE_FILES:
            if remote.exists(name):
                write_bytes_atomic(mirror / name, remote.read(name))
        for name, data in remote.records().items():
            write_bytes_atomic(mirror / "records" / name, data)
        # resume=True: the URL was checked above; the local copy holds its render.json, compared as locally.
        card = render_dataset(replace(job, out=mirror, sink=url, resume=True), progress)
        if card["images"]:
            write_bytes_atomic(mirror / "preview.png", _preview(remote, mirror, Path(tmp) / "preview"))
        for name in _OUTPUT_FILES:
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
