"""Where Cycles renders (`--device` and the graph's render.device): resolved on this machine before any
worker starts, recorded in the dataset card, never mixed within one folder. These run on any machine: where
Cycles finds a GPU the same assertions follow what the machine has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feint.errors import FeintError
from feint.graph import load_graph
from feint.render.dataset import render_dataset
from feint.render.device import (
    CPU,
    DEVICE_CHOICES,
    GPU_BACKENDS,
    cycles_gpus_by_backend,
    resolve_render_device,
)
from feint.render.job import RenderJob

pytestmark = pytest.mark.blender


def test_choices_are_the_graph_schemas():
    assert DEVICE_CHOICES == ("auto", "cpu", "cuda", "optix", "hip", "oneapi", "metal")
    assert {c.upper() for c in DEVICE_CHOICES} - {"AUTO", "CPU"} == set(GPU_BACKENDS)


def test_auto_takes_the_first_backend_with_a_gpu_else_the_cpu():
    found = cycles_gpus_by_backend()
    assert set(found) == set(GPU_BACKENDS)
    first = next((b for b in GPU_BACKENDS if found[b]), None)
    chosen = resolve_render_device("auto")
    if first is None:
        assert chosen == CPU and chosen.describe() == "cpu" and chosen.family == "cpu"
    else:
        assert chosen.backend == first and chosen.gpus == found[first] and chosen.family == "gpu"
    assert resolve_render_device("cpu") == CPU
    assert resolve_render_device(None) == chosen  # no choice: auto


@pytest.mark.parametrize("backend", ["cuda", "optix", "hip"])
def test_a_named_backend_this_machine_lacks_is_one_line(backend):
    if cycles_gpus_by_backend()[backend.upper()]:
        pytest.skip(f"this machine has a {backend} device")
    with pytest.raises(FeintError, match=rf"--device {backend}: Cycles finds no {backend.upper()} device"):
        resolve_render_device(backend)


def test_an_unknown_device_name_is_refused():
    with pytest.raises(FeintError, match="not a render device"):
        resolve_render_device("gpu0")


def test_cli_absent_device_exits_2_before_writing_anything(feint_cli, tmp_path):
    missing = next((b.lower() for b in ("CUDA", "HIP", "ONEAPI") if not cycles_gpus_by_backend()[b]), None)
    if missing is None:
        pytest.skip("this machine has every backend")
    out = tmp_path / "out"
    code, _, err = feint_cli("render", "marine", "-n", 1, "--size", 32, "-o", out, "--device", missing)
    assert code == 2 and err.count("\n") == 1 and f"no {missing.upper()} device" in err, err
    assert not out.exists()
    code, _, err = feint_cli("render", "marine", "-n", 1, "--size", 32, "-o", out, "--device", "gpu")
    assert code == 2 and "'gpu' is not one of" in err


def test_the_card_says_where_it_rendered_and_a_cpu_render_json_is_unchanged(tmp_path):
    out = tmp_path / "cpu"
    graph = load_graph("marine")
    job = RenderJob(graph, 2, out, size=32, device="cpu")
    card = render_dataset(job, progress=False)
    assert card["device"] == "cpu" == json.loads((out / "dataset.json").read_text())["device"]
    models = {"models"} if job.model_versions() else set()  # models past version 1, device-independent
    assert (
        set(json.loads((out / "render.json").read_text()))
        == {"graph", "seed", "size", "n", "pixels"} | models
    )


def test_a_resume_never_mixes_gpu_and_cpu_pixels_in_one_folder(tmp_path):
    out = tmp_path / "mixed"
    graph = load_graph("marine")
    render_dataset(RenderJob(graph, 2, out, size=32, device="cpu"), progress=False)
    spec = json.loads((out / "render.json").read_text())
    (out / "render.json").write_text(json.dumps({**spec, "device": "gpu"}))  # as a GPU render writes it
    before = sorted(p.name for p in (out / "images").iterdir())
    with pytest.raises(FeintError, match=r"rendered on the GPU, now on the CPU .*resume with --device auto"):
        render_dataset(RenderJob(graph, 4, out, size=32, resume=True, device="cpu"), progress=False)
    assert sorted(p.name for p in (out / "images").iterdir()) == before


def test_the_graph_setting_is_used_and_validated(tmp_path: Path, feint_cli):
    graph = tmp_path / "g.yaml"
    graph.write_text("extends: marine\nrender:\n  device: cpu\n")
    assert load_graph(graph).render.device == "cpu"
    card = render_dataset(RenderJob(load_graph(graph), 1, tmp_path / "o", size=32), progress=False)
    assert card["device"] == "cpu"
    graph.write_text("extends: marine\nrender:\n  device: gpu\n")
    code, _, err = feint_cli("graph", "validate", graph)
    assert code == 2 and "g.yaml:3" in err and "render.device" in err, err
