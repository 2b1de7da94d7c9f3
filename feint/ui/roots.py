"""The folders `feint ui` may read and the one folder it writes to.

Every path that reaches the app from a browser (a query parameter, a record of a dataset, a study's list of
photos) is resolved through `Roots.check`: made absolute, symlinks followed, and refused unless the real file
lies under one of the folders the user gave. So `../` in a URL, a symlink pointing out of a folder and a
dataset whose records name `/etc/passwd` are all refused the same way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from feint.errors import FeintError


class OutsideRoots(FeintError):
    """A path the app was asked to read lies outside every folder it was given."""


class Roots:
    """The readable folders (real paths) and the app's own work folder (graph files, previews, thumbnails)."""

    def __init__(self, folders: Sequence[str | Path], workdir: str | Path | None = None) -> None:
        if not folders:
            raise FeintError("feint ui: give at least one folder")
        real = []
        for folder in folders:
            path = Path(folder).expanduser()
            if not path.is_dir():
                raise FeintError(f"{folder}: no such folder")
            real.append(Path(os.path.realpath(path)))
        self.folders: list[Path] = real
        work = Path(workdir).expanduser() if workdir is not None else self.folders[0] / "feint-ui"
        self.workdir = Path(os.path.realpath(work))

    def check(self, path: str | Path) -> Path:
        """The real path of `path` if it lies under a readable folder (or the work folder); else refused.

        Relative paths are refused too: a browser has no working directory to be relative to.
        """
        text = str(path)
        if not text or "\x00" in text or not os.path.isabs(text):
            raise OutsideRoots(f"{text!r}: not an absolute path")
        real = Path(os.path.realpath(text))
        if not any(real.is_relative_to(root) for root in (*self.folders, self.workdir)):
            raise OutsideRoots(f"{text}: outside the folders feint ui was given")
        return real

    def allows(self, path: str | Path) -> bool:
        try:
            self.check(path)
        except OutsideRoots:
            return False
        return True

    def work(self, *parts: str) -> Path:
        """A folder under the work folder, created on first use."""
        folder = self.workdir.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        return folder
