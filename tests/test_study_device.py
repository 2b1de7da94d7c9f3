"""One --device for `feint study run`, `tune` and `ablate`: Cycles and torch on matching devices (the
mapping kept in feint/training/device.py), a device this machine lacks refused in one line before any
work, render folders of CPU and GPU renders kept apart, and run keys that hold the training mode but
never the device. None of these needs a GPU; where the machine has one the checks that assume none skip."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import pytest
import torch

from feint.graph.loader import load_graph_dict
from feint.studies.data import render_key
from feint.studies.runs import RunConfig
from feint.studies.spec import QUICK_FINETUNE_EPOCHS, StudySpec
from feint.training.device import Devices, resolve_devices, torch_device_for

HAS_CUDA = torch.cuda.is_available()


@pytest.mark.parametrize(
    ("choice", "cuda", "expected"),
    [
        ("auto", True, "cuda"),
        ("auto", False, "cpu"),
        (None, False, "cpu"),
        ("cpu", True, "cpu"),
        ("cuda", False, "cuda"),  # named: the caller checks the machine has it
        ("optix", True, "cuda"),
        ("hip", True, "cuda"),  # torch's ROCm builds name AMD GPUs cuda
        ("oneapi", True, "cpu"),
        ("metal", False, "mps"),
        ("OptiX", True, "cuda"),
    ],
)
def test_a_render_device_maps_onto_one_torch_device(choice, cuda, expected):
    assert torch_device_for(choice, cuda) == expected


def test_an_unknown_name_is_refused():
    from feint.errors import FeintError

    with pytest.raises(FeintError, match="not a device"):
        torch_device_for("gpu0", True)


@pytest.mark.skipif(HAS_CUDA, reason="torch sees a CUDA device here")
def test_auto_and_no_choice_resolve_to_the_cpu_on_a_machine_without_a_gpu():
    from feint.render.device import cycles_gpus_by_backend

    if any(cycles_gpus_by_backend().values()):
        pytest.skip("Cycles finds a GPU here")
    assert resolve_devices("auto") == resolve_devices(None) == Devices("cpu", "cpu", "cpu")
    assert resolve_devices("cpu").record() == {"render": "cpu", "torch": "cpu"}
    # on Ray the cluster resolves the render device; torch stays on this machine's CPU
    assert resolve_devices("cuda", on_ray=True) == Devices("cuda", "cpu")


@pytest.mark.skipif(HAS_CUDA, reason="torch sees a CUDA device here")
@pytest.mark.parametrize("command", ["study", "tune", "ablate"])
def test_a_gpu_this_machine_lacks_is_one_line_and_exit_2_before_any_work(command, feint_cli, tmp_path):
    real, out = tmp_path / "photos", tmp_path / "out"
    real.mkdir()  # no images: the device is checked before any data is read
    study = tmp_path / "tiny.yaml"
    study.write_text(f"name: tiny\nreal: {real}\nclasses: [sailboat, submarine]\n")
    args = {
        "study": ["study", "run", study, "-o", out],
        "tune": ["tune", "marine", "--real", real, "-o", out],
        "ablate": ["ablate", "marine", "--real", real, "-o", out],
    }[command]
    code, _, err = feint_cli(*args, "--device", "cuda", "-q")
    assert code == 2 and err.count("\n") == 1, err
    assert "--device cuda: torch finds no CUDA device" in err
    assert not out.exists()
    code, _, err = feint_cli(*args, "--device", "gpu")
    assert code == 2 and "'gpu' is not one of" in err


def test_render_keys_keep_gpu_renders_apart_and_cpu_keys_as_they_were():
    from feint.render.job import PIXELS_VERSION

    merged, _ = load_graph_dict("marine")
    before = json.dumps([merged, 7, 64, PIXELS_VERSION], sort_keys=True, default=str)  # the key's old text
    legacy = hashlib.sha1(before.encode()).hexdigest()[:12]
    assert render_key(merged, 7, 64) == render_key(merged, 7, 64, "cpu") == legacy
    assert render_key(merged, 7, 64, "gpu") != legacy
    assert render_key(merged, 7, 64, "gpu") == render_key(merged, 7, 64, "gpu")


def test_run_keys_hold_the_training_mode_and_its_settings_never_the_device():
    frozen = RunConfig(0.5, 10, "merged", 0, 8, 1e-4, 0, 0.2)
    # a frozen run's key is what it was before fine-tuning runs existed: finished studies resume
    old = {k: v for k, v in asdict(frozen).items() if k not in ("training", "batch")}
    assert frozen.key() == hashlib.sha1(json.dumps(old, sort_keys=True).encode()).hexdigest()[:16]
    assert frozen.record() == old
    tuned = RunConfig(0.5, 10, "merged", 0, 8, 1e-4, 0, 0.2, training="finetune", batch=32)
    assert tuned.record()["training"] == "finetune" and tuned.key() != frozen.key()
    assert (
        tuned.key() != RunConfig(0.5, 10, "merged", 0, 8, 1e-4, 0, 0.2, training="finetune", batch=16).key()
    )
    assert "device" not in tuned.record()


def test_quick_shrinks_fine_tuning_unless_the_file_says_how():
    base = {"name": "s", "real": ".", "classes": ["a", "b"], "mode": "finetune"}
    spec = StudySpec.model_validate({**base, "finetuning": {"epochs": 12, "lr": 3e-4}})
    quick = spec.quick_version().finetuning
    assert (quick.epochs, quick.lr) == (QUICK_FINETUNE_EPOCHS, 3e-4)
    own = StudySpec.model_validate({**base, "quick": {"finetuning": {"epochs": 5}}})
    assert own.quick_version().finetuning.epochs == 5
    frozen = StudySpec.model_validate({k: v for k, v in base.items() if k != "mode"})
    assert frozen.quick_version().finetuning == frozen.finetuning  # nothing to shrink
