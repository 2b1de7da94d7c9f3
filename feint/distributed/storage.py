"""Output folders behind an fsspec URL (s3://, gs://, file://, ...): where workers on other machines write.

Workers on other machines cannot write into the driver's disk, so with `-o URL` each Ray worker delivers
its files straight to the URL, the one that marks the work done last (`feint.render.url` renders a dataset
this way). Every file is written atomically, so a reader sees a whole file or none.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from feint.errors import FeintError


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

    def read_folder(self, rel: str) -> dict[str, bytes]:
        """Every finished file under folder `rel`, by name (000042.json); hidden temporaries of unfinished
        writes left out."""
        folder = self.path(rel)
        names = [p for p in self.fs.find(folder) if not p.rsplit("/", 1)[-1].startswith(".")]
        return {p.rsplit("/", 1)[-1]: data for p, data in self.fs.cat(names).items()} if names else {}

    def deliver(self, staging: Path, names: Sequence[str]) -> None:
        """Upload files of the local folder `staging` (names relative to it, kept under the URL) in the
        order given, so the one that marks the others done goes last; each local copy is then removed."""
        for name in names:
            local = staging / name
            self.write(name, local.read_bytes())
            local.unlink()


def open_output(url: str, executor: str) -> Remote:
    """The output at `url`, checked before any work starts (executor, fsspec backend such as s3fs)."""
    if executor != "ray":
        raise FeintError(f"{url}: a URL output needs --executor ray (local workers write to a local folder)")
    return Remote(url)
