"""File locks beside a tuning study: one `feint tune` per folder, one trial proposal at a time."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from feint.errors import FeintError


@contextmanager
def locked(path: Path, wait: bool = True) -> Iterator[None]:
    """An exclusive lock on `path` (a file beside the study); `wait=False` fails at once if it is held."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise FeintError(f"{path.parent}: another `feint tune` is running on this folder") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
