"""Properties of the heavy commands' option checks: `feint render`, `feint train`, `feint eval`,
`feint predict`, `feint detect train|predict|eval`, each given at least one value that must be refused
before any work (nothing renders, nothing trains):

- exit 2 with one `feint: error: ...` line (or click's usage message for a malformed option);
- no input changed, nothing half-written, and the output path is as it was (a render's or a run's folder
  is not left behind).
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st
from PIL import Image
from properties_helpers import (
    changes,
    check_exit,
    half_written,
    property_settings,
    run_feint,
    snapshot,
)

SETTINGS = property_settings(80)
seeds = st.one_of(st.integers(0, 3), st.integers(-(2**70), 2**70), st.sampled_from([-1, 2**32, 2**64]))


def tiny_dataset(folder: Path, boxes: bool) -> Path:
    """Two classes, two images each: a manifest folder, or COCO with a box per image."""
    folder.mkdir(parents=True)
    images, anns, lines = [], [], ["file,class,group"]
    for k in range(4):
        cls = ("cat", "dog")[k % 2]
        name = f"img{k}.jpg"
        Image.new("RGB", (20, 16), (40 * k, 90, 200 - 40 * k)).save(folder / name)
        lines.append(f"{name},{cls},g{k}")
        images.append({"id": k + 1, "file_name": name, "width": 20, "height": 16})
        anns.append({"id": k + 1, "image_id": k + 1, "category_id": k % 2 + 1, "bbox": [2, 2, 8, 8]})
    if boxes:
        coco = {
            "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
            "images": images,
            "annotations": anns,
        }
        (folder / "annotations.json").write_text(json.dumps(coco))
    else:
        (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder


RUN_KINDS = (
    "missing",
    "empty",
    "file",
    "no_config",
    "config_garbage",
    "config_list",
    "no_best",
    "best_garbage",
    "best_empty",
    "best_partial",
    "best_foreign",
)


def fake_run(world: Path, kind: str, detector: bool) -> Path:
    """A run folder that is not a usable run (nothing must load a model from it)."""
    run = world / "in" / "run"
    if kind == "missing":
        return run
    if kind == "file":
        run.parent.mkdir(parents=True, exist_ok=True)
        run.write_text("not a run\n")
        return run
    run.mkdir(parents=True)
    if kind == "empty":
        return run
    config = {"config_garbage": "{not json", "config_list": "[1, 2]"}.get(
        kind,
        json.dumps(
            {"model": "fasterrcnn", "backbone": "mobilenet_v2", "size": 64, "classes": ["cat", "dog"]}
        ),
    )
    if kind != "no_config":
        (run / "config.json").write_text(config)
    if kind in ("best_garbage", "best_empty", "best_partial", "best_foreign"):
        best = run / "best.pt"
        if kind == "best_garbage":
            best.write_bytes(b"PK\x03\x04 not a checkpoint" * 4)
        elif kind == "best_empty":
            best.write_bytes(b"")
        else:
            import torch

            fmt = "feint-detector/1" if detector else "feint-classifier/1"
            obj: Any = {"format": fmt} if kind == "best_partial" else [1, 2, 3]
            torch.save(obj, best)
    return run


# --- render -------------------------------------------------------------------------------------------
RENDER_FAULTS = (
    "n",
    "size_small",
    "size_big",
    "workers",
    "recycle",
    "executor",
    "graph_missing",
    "graph_bad",
    "graph_unknown_name",
    "out_file",
    "out_not_empty",
    "out_not_empty_resume",
    "out_parent_file",
    "out_render_other_seed",
    "out_is_graph",
    "seed_negative",
)


@st.composite
def render_cases(draw: st.DrawFn) -> dict[str, Any]:
    faults = draw(st.lists(st.sampled_from(RENDER_FAULTS), min_size=1, max_size=3, unique=True))
    return {
        "faults": faults,
        "seed": draw(seeds),
        "graph": draw(st.sampled_from(["marine", "bottles"])),
        "n": draw(st.sampled_from([0, -1, -(10**12)])),
        "size": draw(st.sampled_from([0, 15, -16, 4097, 10**9])),
        "workers": draw(st.sampled_from([0, -1])),
        "recycle": draw(st.sampled_from([0, -5])),
        "executor": draw(st.sampled_from(["bogus", "Ray", "", "threads"])),
    }


@SETTINGS
@given(case=render_cases())
def test_render_refuses_before_rendering(case: dict[str, Any]) -> None:
    note(f"case: {case}")
    faults = case["faults"]
    if "seed_negative" in faults:
        case["seed"] = -1 if case["seed"] >= 0 else case["seed"]
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp)
        (world / "in").mkdir()
        (world / "out").mkdir()
        graph = case["graph"]
        if "graph_missing" in faults:
            graph = str(world / "in" / "missing.yaml")
        elif "graph_bad" in faults:
            (world / "in" / "graph.yaml").write_text("extends: marine\ncamera:\n  fill: {uniform: [2, 1]}\n")
            graph = str(world / "in" / "graph.yaml")
        elif "graph_unknown_name" in faults:
            graph = "lego"
        out = world / "out" / "render"
        resume = False
        if "out_file" in faults:
            out.write_text("a file\n")
        elif "out_not_empty" in faults or "out_not_empty_resume" in faults:
            out.mkdir()
            (out / "notes.txt").write_text("mine\n")
            resume = "out_not_empty_resume" in faults
        elif "out_parent_file" in faults:
            (world / "out" / "file").write_text("a file\n")
            out = world / "out" / "file" / "render"
        elif "out_render_other_seed" in faults:  # a render folder of another seed: --resume must refuse
            out.mkdir()
            from feint.graph import load_graph
            from feint.render.job import RenderJob

            spec = RenderJob(load_graph(case["graph"]), 1, out, 16, 12345).spec()
            (out / "render.json").write_text(json.dumps(spec))
            resume = True
        elif "out_is_graph" in faults:
            (world / "in" / "graph.yaml").write_text("extends: marine\n")
            graph = str(world / "in" / "graph.yaml")
            out = world / "in" / "graph.yaml"
        argv: list[Any] = [
            "render",
            graph,
            "-n",
            case["n"] if "n" in faults else 1,
            "-o",
            out,
            "--size",
            case["size"] if "size_small" in faults or "size_big" in faults else 16,
            "--seed",
            case["seed"],
        ]
        if "size_big" in faults and case["size"] < 4097:
            argv[argv.index("--size") + 1] = 4097
        if "size_small" in faults and case["size"] >= 16:
            argv[argv.index("--size") + 1] = 15
        argv += ["--workers", case["workers"] if "workers" in faults else 1]
        if "recycle" in faults:
            argv += ["--recycle", case["recycle"]]
        if "executor" in faults:
            argv += ["--executor", case["executor"]]
        if resume:
            argv.append("--resume")
        check_refused(world, argv)


def check_refused(world: Path, argv: list[Any]) -> None:
    """The command exits 2 with one line, and leaves the inputs and the output area as they were."""
    inputs_before, out_before = snapshot(world / "in"), snapshot(world / "out")
    code, stdout, stderr = run_feint(*argv)
    note(f"argv: {argv}\nexit {code}\n{stderr}")
    check_exit(code, stdout, stderr, tuple(argv))
    assert code == 2, f"exit {code}: an invalid command was not refused\n{stdout}\n{stderr}"
    changed = changes(inputs_before, snapshot(world / "in")) + changes(out_before, snapshot(world / "out"))
    assert not changed, "a refused command changed files:\n" + "\n".join(changed[:10])
    assert not half_written(world), half_written(world)


# --- train / eval / predict -----------------------------------------------------------------------------
TRAIN_FAULTS = {  # option -> invalid values pydantic refuses before anything is loaded
    "--epochs": [0, -1],
    "--batch": [0, -3],
    "--size": [15, 1025, 0],
    "--val": [1.0, -0.1, math.nan, 2.0],
    "--dropout": [1.0, -0.5, math.nan],
    "--lr": [0.0, -1e-3, 2.0, math.nan, math.inf],
    "--weight-decay": [-1.0, math.nan],
    "--warmup": [-1.0, math.nan],
    "--patience": [0, -2],
    "--hidden": [-1],
    "--mode": ["bogus", "FROZEN", ""],
    "--mix": ["real=abc", "x=1", "real=-1", "real=0", "real", "synthetic=nan"],
    "--backbone": ["bogus"],
    "--arch": ["timm:nothing"],
}


@st.composite
def train_cases(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(st.sampled_from(["missing", "ok", "ok", "empty_folder"]))
    names = draw(
        st.lists(
            st.sampled_from(sorted(TRAIN_FAULTS)), min_size=0 if data != "ok" else 1, max_size=3, unique=True
        )
    )
    bad = {name: draw(st.sampled_from(TRAIN_FAULTS[name])) for name in names}
    out = draw(st.sampled_from(["new", "new", "data", "inside_data", "file"]))
    if data == "ok" and not bad and out == "new":
        bad["--epochs"] = 0
    return {
        "data": data,
        "bad": bad,
        "out": out,
        "seed": draw(seeds),
        "mode": draw(st.sampled_from(["frozen", "finetune"])),
        "resume": draw(st.booleans()),
    }


@SETTINGS
@given(case=train_cases())
def test_train_refuses_before_training(case: dict[str, Any]) -> None:
    note(f"case: {case}")
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp)
        (world / "out").mkdir()
        (world / "in").mkdir()
        data = world / "in" / "data"
        if case["data"] == "ok":
            tiny_dataset(data, boxes=False)
        elif case["data"] == "empty_folder":
            data.mkdir()
        out = {
            "new": world / "out" / "run",
            "data": data,
            "inside_data": data / "run",
            "file": world / "out" / "file",
        }[case["out"]]
        if case["out"] == "file":
            out.write_text("a file\n")
        argv: list[Any] = [
            "train",
            data,
            "-o",
            out,
            "--mode",
            case["mode"],
            "--epochs",
            1,
            "--seed",
            case["seed"],
            "--quiet",
        ]
        for name, value in case["bad"].items():
            argv += [name, value]
        if case["resume"]:
            argv.append("--resume")
        check_refused(world, argv)


@st.composite
def eval_cases(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "command": draw(st.sampled_from(["eval", "predict", "detect eval", "detect predict"])),
        "run": draw(st.sampled_from(RUN_KINDS)),
        "data": draw(st.sampled_from(["ok", "missing"])),
        "out": draw(st.sampled_from(["none", "new", "input", "inside_input", "file_no_overwrite"])),
        "bad": draw(
            st.sampled_from(["none", "none", "bootstrap", "top_k", "conf", "grid", "batch", "workers"])
        ),
        "seed": draw(seeds),
    }


@SETTINGS
@given(case=eval_cases())
def test_eval_and_predict_refuse_without_a_run(case: dict[str, Any]) -> None:
    note(f"case: {case}")
    command = case["command"].split()
    detector = command[0] == "detect"
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp)
        (world / "out").mkdir()
        (world / "in").mkdir()
        run = fake_run(world, case["run"], detector)
        data = world / "in" / "data"
        if case["data"] == "ok":
            tiny_dataset(data, boxes=detector)
        argv: list[Any] = [*command, run, data]
        out = {
            "none": None,
            "new": world / "out" / "report",
            "input": data,
            "inside_input": data / "x",
            "file_no_overwrite": world / "out" / "old",
        }[case["out"]]
        if case["out"] == "file_no_overwrite":
            out.write_text("old\n")
        if command[-1] == "predict" and out is not None and not detector:
            out = out.with_suffix(".csv") if case["out"] == "new" else out
        if out is not None:
            argv += ["-o", out]
        bad = case["bad"]
        if bad == "bootstrap" and command == ["eval"]:
            argv += ["--bootstrap", -1]
        if bad == "top_k" and command == ["predict"]:
            argv += ["-k", 0]
        if bad == "conf" and command == ["detect", "predict"]:
            argv += ["--conf", 1.5]
        if bad == "grid" and command == ["detect", "predict"]:
            argv += ["--grid", 0]
        if bad in ("batch", "workers") and detector:
            argv += ["--batch", 0] if bad == "batch" else ["--workers", -1]
        if command[-1] == "eval":
            argv += ["--seed", case["seed"]] if command == ["eval"] else []
        check_refused(world, argv)


DETECT_FAULTS = {
    "--epochs": [0, -1],
    "--batch": [0],
    "--size": [31, 2049, 0],
    "--optimizer": ["adam", "", "SGD"],
    "--lr": [0.0, 2.0, math.nan],
    "--weight-decay": [-1.0, math.nan],
    "--warmup": [-1.0, math.nan],
    "--workers": [-1],
    "--backbone": ["bogus"],
    "--classes": ["zebra", "cat,zebra"],
}


@st.composite
def detect_train_cases(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(st.sampled_from(["missing", "ok", "ok", "no_boxes"]))
    names = draw(
        st.lists(
            st.sampled_from(sorted(DETECT_FAULTS)), min_size=0 if data != "ok" else 1, max_size=3, unique=True
        )
    )
    bad = {name: draw(st.sampled_from(DETECT_FAULTS[name])) for name in names}
    out = draw(st.sampled_from(["new", "new", "data", "inside_data", "file"]))
    if data == "ok" and out == "new" and set(bad) <= {"--backbone", "--classes"}:
        bad["--epochs"] = 0  # backbone and class names are checked later: never let it train
    return {"data": data, "bad": bad, "out": out, "seed": draw(seeds)}


@SETTINGS
@given(case=detect_train_cases())
def test_detect_train_refuses_before_training(case: dict[str, Any]) -> None:
    note(f"case: {case}")
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp)
        (world / "out").mkdir()
        (world / "in").mkdir()
        data = world / "in" / "data"
        if case["data"] != "missing":
            tiny_dataset(data, boxes=case["data"] == "ok")
        out = {
            "new": world / "out" / "run",
            "data": data,
            "inside_data": data / "run",
            "file": world / "out" / "file",
        }[case["out"]]
        if case["out"] == "file":
            out.write_text("a file\n")
        argv: list[Any] = [
            "detect",
            "train",
            data,
            "-o",
            out,
            "--epochs",
            1,
            "--seed",
            case["seed"],
            "--quiet",
            "--size",
            64,
        ]
        for name, value in case["bad"].items():
            argv += [name, value]
        check_refused(world, argv)
