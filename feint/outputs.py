"""Where feint may write: one output policy for every command.

1. An output is new: a path that does not exist yet (or, for a folder, an empty folder).
2. An existing output is replaced only when the user says `--overwrite`, and only if feint wrote it: a
   folder's card lists the entries feint wrote there; those are swapped for the new ones and everything
   else a user put in the folder stays. A folder without a card is never replaced.
3. A work folder that a long job continues (a render, a training run, a study, a tuning run) is reused only
   by that job, to resume it; it is never replaced.
4. No output is, contains or lies inside an input: the folders and files a command reads, images resolved
   through their links, are never writable through `-o`.
5. Everything is written aside (a hidden sibling) and renamed into place, so a kill or an error leaves the
   old output or the new one, never half of either.

Checks run before any work starts, so a long job is not lost to a bad `-o` at its end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feint.errors import FeintError
from feint.io import write_bytes_atomic, write_json_atomic

OUTPUT_CARD = "feint-output.json"  # the card of a report folder (eval, detections, ablations)
OWNED = "written"  # the card's key listing the entries feint wrote into the folder
OVERWRITE_HINT = "pass --overwrite to replace it, or pick a new name"


@dataclass(frozen=True)
class Inputs:
    """What a command reads, and so must never write through: folders nothing may be written into (a
    dataset's root), and files nothing may replace (a model's weights, every image, resolved)."""

    folders: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    @classmethod
    def of(cls, *paths: str | os.PathLike[str], files: Iterable[str | os.PathLike[str]] = ()) -> Inputs:
        """`paths` as given on the command line (a folder protects everything in it; a file itself), and
        further `files` the command reads (images, weights)."""
        folders: list[str] = []
        plain: list[str] = []
        for p in paths:
            (folders if Path(p).is_dir() else plain).append(os.path.realpath(p))
        plain += [os.path.realpath(f) for f in files]
        return cls(tuple(dict.fromkeys(folders)), tuple(dict.fromkeys(plain)))

    @classmethod
    def of_datasets(cls, roots: Iterable[str | os.PathLike[str]], datasets: Iterable[Any]) -> Inputs:
        """The inputs of a command reading `datasets` from `roots`: the roots, every image, and the folder
        of a dataset read from its label file (annotations.json, data.yaml, manifest.csv: its images,
        labels and lists lie there, so `-o` inside it is writing into the dataset)."""
        datasets = list(datasets)
        folders = {
            os.path.dirname(os.path.realpath(d.root))
            for d in datasets
            if d.root is not None and Path(d.root).is_file()
        }
        return cls.of(*roots, *sorted(folders), files=[r.image for d in datasets for r in d.records])

    def __add__(self, other: Inputs) -> Inputs:
        return Inputs(
            tuple(dict.fromkeys(self.folders + other.folders)), tuple(dict.fromkeys(self.files + other.files))
        )


def run_files(run: Path) -> Inputs:
    """A run folder read as a model: its own files (weights, config) are protected; reports may be
    written into subfolders of it."""
    return Inputs.of(files=[p for p in run.iterdir() if p.is_file()]) if run.is_dir() else Inputs()


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_not_input(dest: Path, inputs: Inputs) -> None:
    """Refuse an output that is, contains or lies inside something the command reads: where it points
    (links resolved) and where it is (a link inside an input folder is part of it, wherever it leads)."""
    for where in dict.fromkeys((os.path.realpath(dest), os.path.abspath(dest))):
        for folder in inputs.folders:
            if _within(folder, where):
                raise FeintError(f"{dest}: the output would replace the input {folder}; pick another name")
            if _within(where, folder):
                raise FeintError(f"{dest}: the output lies inside the input {folder}; write it outside")
        for file in inputs.files:
            if _within(file, where):
                raise FeintError(f"{dest}: the output would replace the input file {file}; pick another name")


def check_file_output(path: Path, inputs: Inputs = Inputs(), overwrite: bool = False) -> None:
    """A file output (a PNG, a CSV, a JSON) may be new, or replace a file only with `overwrite`."""
    check_not_input(path, inputs)
    if path.is_dir():
        raise FeintError(f"{path}: is a folder; give a file name")
    if path.exists() and not overwrite:
        raise FeintError(f"{path}: file exists; {OVERWRITE_HINT}")
    if path.parent.exists() and not path.parent.is_dir():
        raise FeintError(f"{path.parent}: is a file, expected a folder")


def write_file_output(path: Path, data: bytes) -> None:
    """Write a checked file output atomically (a reader never sees half of it)."""
    write_bytes_atomic(path, data)


def check_folder_output(dest: Path, inputs: Inputs, overwrite: bool, card: str = OUTPUT_CARD) -> None:
    """A folder output may be new or empty, or, with `overwrite`, an earlier output of feint's (it holds
    `card`, which lists what feint wrote there)."""
    check_not_input(dest, inputs)
    if dest.is_symlink():
        raise FeintError(f"{dest}: is a symbolic link; give the folder it points to")
    if dest.exists() and not dest.is_dir():
        raise FeintError(f"{dest}: is a file, expected a folder")
    if not dest.is_dir() or not _entries(dest):
        return
    if not (dest / card).is_file():
        raise FeintError(
            f"{dest}: folder is not empty and was not written by feint (no {card}); "
            "pick a new or empty folder"
        )
    if not overwrite:
        raise FeintError(f"{dest}: an earlier feint output; {OVERWRITE_HINT}")
    if _owned(dest, card) is None:
        raise FeintError(
            f"{dest}: written by an older feint that did not list its files; "
            "remove it yourself, or pick a new folder"
        )


@contextmanager
def folder_output(
    dest: Path, inputs: Inputs = Inputs(), overwrite: bool = False, card: str = OUTPUT_CARD
) -> Iterator[Path]:
    """Yield a hidden sibling folder to write the output into; the caller writes `card` there.

    On success the entries written replace the ones feint wrote before (the user's own stay), and the card
    records them; on any error (Ctrl-C included) the sibling goes and `dest` is as it was."""
    if dest.parent.is_dir():
        _remove_stale_siblings(dest, card)
    check_folder_output(dest, inputs, overwrite, card)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    made = [p for p in (dest.parent, *dest.parent.parents) if not p.exists()]  # deepest first
    done = False
    try:
        try:
            tmp.mkdir(parents=True)
        except OSError as err:  # named by the folder the user asked for, not by the temporary one
            raise OSError(err.errno, err.strerror, str(dest)) from None
        yield tmp
        written = sorted(_entries(tmp))
        if (tmp / card).is_file():
            record = json.loads((tmp / card).read_text())
            write_json_atomic(tmp / card, {**record, OWNED: written})
        _swap_in(tmp, dest, card)
        done = True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not done:  # the parent folders made for the output go with it
            for folder in made:
                try:
                    folder.rmdir()
                except OSError:
                    break


def _swap_in(tmp: Path, dest: Path, card: str) -> None:
    """Put the new output in `dest`: the old one's entries move aside, the user's own come back, then the
    set-aside copy of what feint wrote before is removed."""
    if not dest.is_dir():
        os.replace(tmp, dest)
        return
    keep = [name for name in _entries(dest) if name not in set(_owned(dest, card) or ())]
    clash = sorted(set(keep) & set(_entries(tmp)))
    if clash:
        raise FeintError(
            f"{dest / clash[0]}: not written by feint, and the new output has an entry of that "
            "name; move it, or pick a new folder"
        )
    old = dest.parent / f".{dest.name}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    os.replace(dest, old)
    os.replace(tmp, dest)
    for name in keep:
        os.replace(old / name, dest / name)
    shutil.rmtree(old)


def _entries(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()]


def _owned(dest: Path, card: str) -> list[str] | None:
    """The entries feint wrote into `dest`, from its card (None: a card without the list, or with a list
    that is not of names: an edited card cannot tell what is whose)."""
    try:
        owned = json.loads((dest / card).read_text()).get(OWNED)
    except (OSError, ValueError, AttributeError):
        return None
    return owned if isinstance(owned, list) and all(isinstance(n, str) for n in owned) else None


def _remove_stale_siblings(dest: Path, card: str) -> None:
    """Hidden siblings left by a feint that was killed mid-write (its process is gone) are removed."""
    pattern = re.compile(rf"\.{re.escape(dest.name)}\.(tmp|old)-(\d+)$")
    for sibling in dest.parent.iterdir():
        match = pattern.match(sibling.name)
        if not match or int(match.group(2)) == os.getpid() or _alive(int(match.group(2))):
            continue
        if match.group(1) == "old" and not dest.exists():
            os.replace(sibling, dest)  # killed between the two renames: the old output comes back
            continue
        if match.group(1) == "old":  # killed while the user's entries were moving back: finish that
            owned = _owned(sibling, card)
            if owned is None:
                continue  # cannot tell what is whose: left for the user
            for name in set(_entries(sibling)) - set(owned) - set(_entries(dest)):
                os.replace(sibling / name, dest / name)
        shutil.rmtree(sibling, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_work_folder(dest: Path, inputs: Inputs, marker: str, kind: str) -> None:
    """A folder a long job works in and resumes (a study, a tuning run): new, empty, or one holding the
    job's `marker` file; never inside or over an input."""
    check_not_input(dest, inputs)
    if dest.exists() and not dest.is_dir():
        raise FeintError(f"{dest}: is a file, expected a folder")
    if dest.is_dir() and _entries(dest) and not (dest / marker).is_file():
        raise FeintError(
            f"{dest}: folder is not empty and is not a feint {kind} folder (no {marker}); "
            "pick a new or empty folder"
        )


def write_output_card(folder: Path, command: str, params: dict[str, Any], name: str = OUTPUT_CARD) -> None:
    """The card of a report folder: the command and parameters that made it, and when."""
    import time

    import feint

    write_json_atomic(
        folder / name,
        {
            "command": command,
            "params": params,
            "version": feint.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )
