"""Properties of `feint data convert|split|subsample|select|merge|stats|preview` on generated datasets.

Datasets in every format feint reads (manifest, COCO, YOLO, ImageFolder, a feint render), valid and
corrupted (properties_datasets.py), images stored in the dataset or linked from a folder beside it; random
commands with random options (ratios, fractions, per-class counts, seeds, --where expressions, class
lists, mapping files, --to formats, --copy, --split, --check) and `-o` targets drawn from: a new path, an
earlier output with and without --overwrite, a folder holding a user's file, the input itself, a folder
inside the input, a file, a path whose parent is a file, links. For every example:

- exit 0, or 2 with one `feint: error: ...` line;
- no input changed (every file under each input folder hashed, links followed; nothing appeared there);
- nothing half-written: no hidden `.*.tmp-*`/`.*.old-*` left; after exit 2 the output area is as it was;
- after exit 0 a written dataset loads (`load_dataset`) with as many images as the command printed, and
  the files a user had put into an earlier output are still there, unchanged.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from properties_datasets import CLASS_POOL, FORMATS, IMAGE_DAMAGE, DatasetSpec, build, dataset_specs
from properties_helpers import (
    changes,
    check_exit,
    half_written,
    property_settings,
    run_feint,
    snapshot,
)

WRITERS = ("convert", "split", "subsample", "select", "merge")
SAFE_FOLDER_TARGETS = (
    "new",
    "new",
    "new_nested",
    "new_unicode",
    "stale_tmp",
    "stale_old",
    "empty_dir",
    "earlier",
    "earlier_user_file",
)
ODD_FOLDER_TARGETS = (
    "user_folder",
    "input",
    "inside_input",
    "inside_input_images",
    "file",
    "parent_is_file",
    "link_to_empty",
    "link_to_input",
    "parent_of_input",
    "card_garbage",
    "card_no_written",
    "card_odd_written",
    "earlier_user_clash",
    "second_input",
    "earlier_is_input",
)
OVERWRITE_TARGETS = (
    "earlier",
    "earlier_user_file",
    "earlier_user_clash",
    "card_garbage",
    "card_no_written",
    "card_odd_written",
    "stale_tmp",
    "stale_old",
    "existing_file",
    "link_to_file",
    "input_image",
    "original_image",
    "input_label_file",
)
SAFE_FILE_TARGETS = ("new", "new_nested", "existing_file")
ODD_FILE_TARGETS = (
    "folder",
    "input_image",
    "original_image",
    "inside_input",
    "parent_is_file",
    "input_label_file",
    "link_to_file",
)


def mostly(
    valid: st.SearchStrategy[Any], odd: st.SearchStrategy[Any], weight: int = 3
) -> st.SearchStrategy[Any]:
    """`valid` `weight` times as often as `odd` (one_of would draw each branch alike)."""
    return st.sampled_from([True] * weight + [False]).flatmap(lambda ok: valid if ok else odd)


seeds = mostly(
    st.integers(0, 3), st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([-1, 2**32, 2**64]))
)
opt_formats = mostly(st.none(), st.sampled_from(FORMATS + ("bogus",)), 6)
opt_splits = mostly(st.sampled_from(("train", "val", "test")), st.sampled_from(("bogus", "", "TRAIN")))
to_formats = mostly(
    st.sampled_from(("coco", "yolo", "imagefolder", "manifest")),
    st.sampled_from(("feint", "bogus", "COCO", None)),
    5,
)
ratios = mostly(
    st.sampled_from(
        [
            "0.8,0.1,0.1",
            "0.5,0.5",
            "1",
            "0.7,0.3",
            "0,1",
            "0.6,0.2,0.2",
            "1,0,0",
            "0.3333333,0.3333333,0.3333334",
            " 0.5 , 0.5 ",
        ]
    ),
    st.one_of(
        st.sampled_from(
            [
                "",
                "a,b",
                "0.5,0.6",
                "-0.5,1.5",
                "nan",
                "inf,-inf",
                "1e309",
                ",,",
                "0.5,0.5,0,0",
                "0.25,0.25,0.25,0.25",
                "1;0",
            ]
        ),
        st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=4).map(
            lambda v: ",".join(repr(x) for x in v)
        ),
    ),
)
names = mostly(
    st.sampled_from(["train,val,test", "a,b,c", "a,b", "x"]),
    st.sampled_from(["a,a", "train,,val", ",", "é,ü", "a,b,c,d"]),
    2,
)
by = mostly(
    st.sampled_from(["group", "none", "file", "image"]),
    st.sampled_from(["class", "split", "low_detail", "sky.clouds", "bogus", "n_boxes", "meta.split"]),
    2,
)
stratify = mostly(
    st.sampled_from(["class", "none"]),
    st.sampled_from(["group", "low_detail", "bogus", "source", "split", "width"]),
    2,
)
fractions = mostly(st.floats(0.05, 1), st.sampled_from([0.0, 1.0, -0.1, 1.5, math.nan, math.inf, 1e-300]))
per_class = mostly(st.integers(1, 8), st.sampled_from([0, -1, 10**12, 2**70]))
WHERE_COLUMNS = (
    "class",
    "group",
    "source",
    "split",
    "width",
    "height",
    "n_boxes",
    "low_detail",
    "sky.clouds",
    "camera.side",
    "file",
    "label",
    "meta.split",
    "bogus",
    "index",
)
where_exprs = mostly(
    st.tuples(
        st.sampled_from(WHERE_COLUMNS),
        st.sampled_from(["=", "==", "!=", "<", "<=", ">", ">="]),
        st.sampled_from(
            [
                "0",
                "1",
                "cat",
                "real",
                "synthetic",
                "train",
                "nan",
                "inf",
                "-1",
                "",
                "1e400",
                "abc",
                "0.5",
                "12",
                " 8 ",
                "port",
            ]
        ),
    ).map("".join),
    st.sampled_from(
        [
            "",
            "=",
            "class",
            "==cat",
            "class=",
            "a b=c",
            "x<y<z",
            "class=cat=dog",
            "  width > 10  ",
            "width=>3",
            "!",
            "é=1",
        ]
    ),
)
class_lists = mostly(
    st.lists(st.sampled_from(CLASS_POOL), min_size=1, max_size=3, unique=True).map(",".join),
    st.lists(st.sampled_from(CLASS_POOL + ("zebra", "", " ", "cat")), max_size=4).map(",".join),
)
chance = st.sampled_from([False, True])
rarely = st.sampled_from([False, False, False, True])


@st.composite
def map_files(draw: st.DrawFn, classes: list[str]) -> tuple[str, bytes] | None:
    """(file name, bytes) of a --map file, or None for a path that does not exist."""
    kind = draw(
        st.sampled_from(
            [
                "yaml",
                "yaml",
                "csv",
                "txt",
                "missing",
                "folder",
                "malformed",
                "list",
                "nested",
                "non_utf8",
                "duplicate",
                "empty",
                "three_fields",
                "header",
            ]
        )
    )
    sources = mostly(st.sampled_from(classes), st.sampled_from(CLASS_POOL + ("zebra",)))
    targets = st.sampled_from(CLASS_POOL + ("pet", "", "null", "~", "-", "none", "1"))
    pairs = draw(st.lists(st.tuples(sources, targets), min_size=1, max_size=3, unique_by=lambda p: p[0]))
    if kind == "missing":
        return None
    if kind == "folder":
        return ("folder", b"")
    if kind in ("csv", "txt", "three_fields", "header"):
        lines = [f"{a},{b}" for a, b in pairs]
        if kind == "three_fields":
            lines.append("cat,dog,emu")
        if kind == "header":
            lines.insert(0, "from,to")
        return (f"map.{'txt' if kind == 'txt' else 'csv'}", ("\n".join(lines) + "\n").encode())
    body = "".join(f"{a}: {b!r}\n" if b else f"{a}:\n" for a, b in pairs)
    body = {
        "malformed": "cat: [dog\n",
        "list": "- cat\n- dog\n",
        "nested": "cat: {a: 1}\n",
        "non_utf8": None,
        "duplicate": f"{pairs[0][0]}: dog\n{pairs[0][0]}: emu\n",
        "empty": "",
    }.get(kind, body)
    if body is None:
        return ("map.yaml", b"cat: \xff\xfe\n")
    return (draw(st.sampled_from(["map.yaml", "map.yml"])), body.encode())


@st.composite
def data_commands(draw: st.DrawFn, cmd: str, classes: list[str], odd_targets: bool = True) -> dict[str, Any]:
    """An abstract command `cmd`: options (without paths), the -o target kind and what it needs.
    Options mostly take valid values, sometimes odd ones; targets are mostly allowed ones."""
    opts: list[Any] = []
    need: dict[str, Any] = {}

    def maybe(flag: str, strategy: st.SearchStrategy[Any], often: bool = False) -> None:
        if draw(st.sampled_from([True, True, False] if often else [False, True])):
            value = draw(strategy)
            if value is not None:
                opts.extend([flag, value])

    def switch(flag: str) -> None:
        if draw(rarely):
            opts.append(flag)

    if cmd in WRITERS:
        if cmd == "convert":
            to = draw(to_formats)
            opts.extend(["--to", to] if to is not None else [])  # without --to: a usage error
        else:
            maybe("--to", to_formats)
        switch("--copy")
        switch("--check")
    if cmd in ("convert", "subsample", "select", "stats", "preview") and draw(rarely):
        opts.extend(["--split", draw(opt_splits)])
    maybe("--format", opt_formats)
    if cmd == "split":
        maybe("--ratios", ratios, often=True)
        maybe("--seed", seeds)
        maybe("--by", by)
        maybe("--stratify", stratify)
        maybe("--names", names)
    elif cmd == "subsample":
        which = draw(
            mostly(st.sampled_from(["fraction", "per-class"]), st.sampled_from(["both", "neither"]), 4)
        )
        if which in ("fraction", "both"):
            opts.extend(["--fraction", draw(fractions)])
        if which in ("per-class", "both"):
            opts.extend(["--per-class", draw(per_class)])
        maybe("--seed", seeds)
        if draw(rarely):
            opts.extend(["--in-split", draw(opt_splits)])
        maybe("--by", by)
        maybe("--stratify", stratify)
    elif cmd == "select":
        maybe(
            "--classes",
            mostly(st.lists(st.sampled_from(classes), min_size=1, unique=True).map(",".join), class_lists),
        )
        for expr in draw(st.lists(where_exprs, max_size=2)):
            opts.extend(["--where", expr])
        if draw(chance):
            need["map"] = draw(map_files(classes))
            need["map_wanted"] = True
    elif cmd == "merge":
        need["second"] = draw(mostly(st.just("other"), st.sampled_from(["self", "none", "three"]), 4))
        need["synthetic"] = draw(chance)
        maybe("--fill-split", opt_splits)
    elif cmd == "stats":
        switch("--check")
        if draw(chance):
            need["json"] = draw(
                mostly(st.sampled_from(SAFE_FILE_TARGETS), st.sampled_from(ODD_FILE_TARGETS))
                if odd_targets
                else st.sampled_from(SAFE_FILE_TARGETS)
            )
    elif cmd == "preview":
        maybe("-n", mostly(st.integers(1, 8), st.sampled_from([0, -1, 401, 400])))
        maybe("--columns", mostly(st.integers(1, 4), st.sampled_from([0, -2, 10**6])))
        maybe("--seed", seeds)
    safe, odd = (
        (SAFE_FOLDER_TARGETS, ODD_FOLDER_TARGETS) if cmd in WRITERS else (SAFE_FILE_TARGETS, ODD_FILE_TARGETS)
    )
    target = draw(
        mostly(st.sampled_from(safe), st.sampled_from(odd), 2) if odd_targets else st.sampled_from(safe)
    )
    if target in OVERWRITE_TARGETS or cmd == "stats":
        if draw(chance):
            opts.append("--overwrite")
    elif draw(rarely):
        opts.append("--overwrite")
    return {"cmd": cmd, "opts": opts, "target": target, "need": need}


# --- materialising a command in a temporary world ---------------------------------------------------
def make_earlier_output(world: Path, dest: Path, user_file: bool) -> None:
    """An earlier feint output at `dest`: `feint data convert` of a small valid dataset."""
    from properties_datasets import ImageSpec

    spec = DatasetSpec(
        fmt="manifest",
        classes=["cat", "dog"],
        linked=False,
        as_file=False,
        damage="none",
        pick=0,
        odd=None,
        images=[
            ImageSpec(8, 6, "cat", [], "g0", None, ".jpg", 10),
            ImageSpec(6, 8, "dog", [], "g1", None, ".png", 90),
        ],
    )
    src = build(world / "prev" / "ds", spec, world / "prev" / "originals")
    code, out, err = run_feint("data", "convert", src, "-o", dest, "--to", "imagefolder")
    assert code == 0, err
    if user_file:
        (dest / "my-notes.txt").write_text("mine\n")


def dead_pid() -> int:
    """The id of a process that has ended."""
    import subprocess

    done = subprocess.run(["true"], check=True)
    del done
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def folder_target(kind: str, world: Path, src: Path, second: Path | None) -> Path:
    out_area = world / "out"
    in_folder = src if src.is_dir() else src.parent
    if kind == "new":
        return out_area / "result"
    if kind == "new_nested":
        return out_area / "a" / "b" / "result"
    if kind == "empty_dir":
        (out_area / "empty").mkdir()
        return out_area / "empty"
    if kind == "new_unicode":
        return out_area / "résumé, 2 ∞"
    if kind in ("earlier", "earlier_user_file"):
        make_earlier_output(world, out_area / "prev", kind == "earlier_user_file")
        return out_area / "prev"
    if kind == "earlier_user_clash":  # the user put files named as a new output's entries into an old one
        make_earlier_output(world, out_area / "prev", user_file=True)
        for name in ("annotations.json", "data.yaml", "manifest.csv", "images"):
            if not (out_area / "prev" / name).exists():
                (out_area / "prev" / name).write_text("the user's\n")
        return out_area / "prev"
    if kind in ("stale_tmp", "stale_old"):  # what a feint killed mid-write (its process gone) left
        make_earlier_output(world, out_area / "prev", user_file=True)
        dead = dead_pid()
        if kind == "stale_tmp":
            (out_area / f".prev.tmp-{dead}").mkdir()
            (out_area / f".prev.tmp-{dead}" / "half.json").write_text("{")
        else:  # killed between its two renames: the old output is aside, nothing at the destination
            os.replace(out_area / "prev", out_area / f".prev.old-{dead}")
        return out_area / "prev"
    if kind == "user_folder":
        (out_area / "mine").mkdir()
        (out_area / "mine" / "notes.txt").write_text("mine\n")
        return out_area / "mine"
    if kind == "input":
        return src
    if kind == "inside_input":
        return in_folder / "sub"
    if kind == "inside_input_images":
        return in_folder / "images"
    if kind == "file":
        (out_area / "file.txt").write_text("a file\n")
        return out_area / "file.txt"
    if kind == "parent_is_file":
        (out_area / "file.txt").write_text("a file\n")
        return out_area / "file.txt" / "result"
    if kind == "link_to_empty":
        (out_area / "empty").mkdir()
        os.symlink(out_area / "empty", out_area / "link")
        return out_area / "link"
    if kind == "link_to_input":
        os.symlink(in_folder, out_area / "link")
        return out_area / "link"
    if kind == "parent_of_input":
        return in_folder.parent
    if kind in ("card_garbage", "card_no_written", "card_odd_written"):
        (out_area / "old").mkdir()
        card = {
            "card_no_written": '{"command": "convert"}',
            "card_garbage": "{not json",
            "card_odd_written": '{"written": [["a"], {"b": 1}, 3, "../x", null, "feint-data.json"]}',
        }[kind]
        (out_area / "old" / "feint-data.json").write_text(card)
        return out_area / "old"
    if kind == "second_input":
        return second if second is not None else out_area / "result"
    raise AssertionError(kind)


def file_target(kind: str, world: Path, src: Path, suffix: str) -> Path:
    out_area = world / "out"
    in_folder = src if src.is_dir() else src.parent
    if kind == "new":
        return out_area / f"result{suffix}"
    if kind == "new_nested":
        return out_area / "a" / "b" / f"result{suffix}"
    if kind == "existing_file":
        (out_area / f"old{suffix}").write_text("old\n")
        return out_area / f"old{suffix}"
    if kind == "folder":
        (out_area / "folder").mkdir()
        return out_area / "folder"
    if kind == "input_image":
        images = sorted(p for p in in_folder.rglob("*") if p.suffix in (".jpg", ".png"))
        return images[0] if images else in_folder / f"x{suffix}"
    if kind == "original_image":  # an image of the dataset's, outside its folder (the dataset links to it)
        originals = sorted((world / "in" / "originals").glob("*"))
        return originals[0] if originals else out_area / f"result{suffix}"
    if kind == "inside_input":
        return in_folder / f"result{suffix}"
    if kind == "parent_is_file":
        (out_area / "file.txt").write_text("a file\n")
        return out_area / "file.txt" / f"result{suffix}"
    if kind == "input_label_file":
        labels = [
            in_folder / n
            for n in ("annotations.json", "manifest.csv", "data.yaml")
            if (in_folder / n).exists()
        ]
        return labels[0] if labels else in_folder
    if kind == "link_to_file":
        (out_area / f"target{suffix}").write_text("old\n")
        os.symlink(out_area / f"target{suffix}", out_area / f"link{suffix}")
        return out_area / f"link{suffix}"
    raise AssertionError(kind)


def materialise(
    world: Path, command: dict[str, Any], spec: DatasetSpec, second_spec: DatasetSpec | None
) -> tuple[list[Any], Path | None, list[Path]]:
    """The argv, the -o path (None: none) and the inputs of `command` in `world`."""
    src = build(world / "in" / "ds", spec, world / "in" / "originals")
    inputs = [world / "in"]
    (world / "out").mkdir()
    cmd, need = command["cmd"], command["need"]
    argv: list[Any] = ["data", cmd]
    second = None
    if cmd == "merge":
        kind = need["second"]
        if kind in ("other", "three"):
            assert second_spec is not None
            second = build(world / "in2" / "ds", second_spec, world / "in2" / "originals")
            inputs.append(world / "in2")
        positional = {"other": [src], "self": [src, src], "none": [src], "three": [src, second]}[kind]
        argv += positional
        if second is not None and kind == "other":
            argv += ["--synthetic", second] if need["synthetic"] else [second]
        elif kind == "three":
            argv += ["--synthetic", src]
    elif command["target"] == "earlier_is_input":  # an earlier output read, and replaced with itself
        src = world / "in" / "earlier"
        make_earlier_output(world, src, user_file=True)
        argv.append(src)
    else:
        argv.append(src)
    out: Path | None = None
    if cmd in WRITERS:
        if command["target"] == "earlier_is_input":
            out = src if cmd != "merge" else world / "out" / "result"
            argv += ["--overwrite"]
        else:
            out = folder_target(command["target"], world, src, second)
        argv += ["-o", out]
    elif cmd == "preview":
        out = file_target(command["target"], world, src, ".png")
        argv += ["-o", out]
    elif cmd == "stats" and "json" in need:
        out = file_target(need["json"], world, src, ".json")
        argv += ["--json", out]
    if "map_wanted" in need:
        mapping = need["map"]
        (world / "maps").mkdir()
        inputs.append(world / "maps")
        if mapping is None:
            path = world / "maps" / "missing.yaml"
        elif mapping[0] == "folder":
            path = world / "maps" / "folder"
            path.mkdir()
        else:
            path = world / "maps" / mapping[0]
            path.write_bytes(mapping[1])
        argv += ["--map", path]
    if (world / "prev").exists():
        inputs.append(world / "prev")
    return argv + command["opts"], out, inputs


PRINTED = re.compile(r"^(?P<out>.+) \((?P<fmt>\w+)\): (?P<n>\d+) images", re.M)


COMMANDS = (*WRITERS, "stats", "preview")


@pytest.mark.parametrize("cmd", COMMANDS)
@property_settings(70)
@given(data=st.data())
def test_data_commands(cmd: str, data: st.DataObject) -> None:
    """Valid datasets of every format; command `cmd` with random options and -o targets."""
    spec = data.draw(dataset_specs(damage=False), "dataset")
    second = data.draw(dataset_specs(damage=False), "second dataset")
    run_and_check(spec, second, data.draw(data_commands(cmd, spec.classes), "command"))


@pytest.mark.parametrize("fmt", FORMATS)
@property_settings(110)
@given(data=st.data())
def test_data_commands_on_damaged_datasets(fmt: str, data: st.DataObject) -> None:
    """Corrupted datasets of format `fmt` (one corruption each); random commands to allowed targets."""
    spec = data.draw(dataset_specs(formats=(fmt,), damage=True), "dataset")
    second = data.draw(dataset_specs(damage=False), "second dataset")
    cmd = data.draw(st.sampled_from(COMMANDS), "command name")
    run_and_check(spec, second, data.draw(data_commands(cmd, spec.classes, odd_targets=False), "command"))


_STALE = re.compile(r"^(?P<parent>.*)/\.(?P<name>[^/]+)\.(?P<kind>tmp|old)-\d+(?P<rest>/.*)?$")


def recovered(state: dict[str, str]) -> dict[str, str]:
    """A snapshot as feint leaves it when it cleans up after a killed feint: a dead `.NAME.tmp-PID`
    sibling is gone; a `.NAME.old-PID` one (killed between its two renames) is back at NAME."""
    out = {}
    for key, value in state.items():
        stale = _STALE.match(key)
        if stale and stale["kind"] == "tmp":
            continue
        if stale:
            key = f"{stale['parent']}/{stale['name']}{stale['rest'] or ''}"
        out[key] = value
    return out


def run_and_check(spec: DatasetSpec, second_spec: DatasetSpec, command: dict[str, Any]) -> None:
    note(f"dataset: {spec}\nsecond: {second_spec}\ncommand: {command}")
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp)
        argv, out, inputs = materialise(world, command, spec, second_spec)
        note(f"argv: {argv}")
        inputs_before = snapshot(*inputs)
        out_before = snapshot(world / "out")
        stale_before = half_written(world)
        user_files = {
            Path(recovered({str(p): ""}).popitem()[0]): p.read_bytes()
            for p in (world / "out").rglob("my-notes.txt")
        }

        code, stdout, stderr = run_feint(*argv)
        check_exit(code, stdout, stderr, tuple(argv))

        changed = changes(inputs_before, snapshot(*inputs))
        assert not changed, "an input changed:\n" + "\n".join(changed[:10])
        left = half_written(world)
        if code != 0:  # a failed command leaves the output area as it was, or cleaned up after a killed feint
            assert set(left) <= set(stale_before), f"half-written files left: {left}"
            out_after = snapshot(world / "out")
            changed = changes(out_before, out_after)
            if changed and stale_before:
                changed = changes(recovered(out_before), out_after)
            assert not changed, "a failed command changed the output area:\n" + "\n".join(changed[:10])
            return
        assert not left, f"half-written files left: {left}"
        for path, data in user_files.items():
            assert path.is_file() and path.read_bytes() == data, f"the user's file {path} changed or went"
        check_success(spec, command, out, stdout, argv)


def check_success(
    spec: DatasetSpec, command: dict[str, Any], out: Path | None, stdout: str, argv: list[Any]
) -> None:
    """What a command that exited 0 promises about its output."""
    from feint.datasets import load_dataset
    from feint.errors import FeintError

    cmd = command["cmd"]
    if cmd in WRITERS:
        assert out is not None and out.is_dir() and not out.is_symlink(), out
        assert (out / "feint-data.json").is_file()
        card = json.loads((out / "feint-data.json").read_text())
        assert isinstance(card.get("written"), list) and card["written"], card
        printed = PRINTED.search(stdout)
        assert printed, stdout
        try:  # in the format printed: files a user put beside it (an annotations.json) may look like another
            loaded = load_dataset(out, printed["fmt"])
        except FeintError as err:
            # Without --check the images are not decoded: an output of broken images is written, and a
            # format that reads image headers (YOLO, ImageFolder) then names the broken one.
            if spec.damage in IMAGE_DAMAGE and "--check" not in argv and "image" in str(err):
                return
            raise
        assert len(loaded) == int(printed["n"]), (
            f"printed {printed['n']} images, {out} holds {len(loaded)} ({printed['fmt']})\n{stdout}"
        )
    elif cmd == "preview" and out is not None:
        from PIL import Image

        with Image.open(out) as img:
            assert img.format == "PNG"
            img.load()
        assert stdout.startswith(f"{out}: "), stdout
    elif cmd == "stats" and out is not None:
        numbers = json.loads(out.read_text())
        first = re.search(r": (\d+) images, ", stdout)
        assert first and numbers["images"] == int(first[1]), stdout
    if cmd == "stats" and "--check" in argv:
        assert "decode" in stdout
