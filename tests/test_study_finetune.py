"""A tiny study with `mode: finetune`, through `feint study run`: every run trains backbone and head on its
images (64 px, two classes, one epoch), the report is written, a second run retrains nothing, and its runs
are other runs than a frozen study's. Real data (FEINT_REAL_DATA); the CPU, as `--device cpu` says."""

from __future__ import annotations

import json

import pytest
import yaml

from feint.studies import runs as runs_module
from feint.studies.runs import RunConfig
from feint.studies.spec import StudySpec

pytestmark = pytest.mark.blender


def test_a_finetune_study_runs_reports_resumes_and_keeps_its_own_runs(
    tiny_spec, tmp_path, feint_cli, monkeypatch
):
    spec = StudySpec.model_validate(
        {
            **tiny_spec.model_dump(),
            "mode": "finetune",
            "finetuning": {"epochs": 1, "batch": 32},
            "synthetic": {**tiny_spec.synthetic.model_dump(), "per_class": 4},
            "steps": ["baseline", "zero_shot", "finetune"],
            "baseline_fractions": [0.3],
            "finetune_fractions": [0.3],
        }
    )
    study, out, cache = tmp_path / "ft.yaml", tmp_path / "study", tmp_path / "cache"
    study.write_text(yaml.safe_dump(spec.model_dump(), sort_keys=False))
    trained: list[RunConfig] = []
    real_execute = runs_module.execute

    def counting(cfg, data):
        trained.append(cfg)
        return real_execute(cfg, data)

    monkeypatch.setattr(runs_module, "execute", counting)
    args = ("study", "run", study, "-o", out, "--cache", cache, "--device", "cpu", "-q")
    code, said, err = feint_cli(*args)
    assert code == 0, err
    assert "report: " in said and (out / "report.html").is_file()
    runs = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    assert len(runs) == len(trained) == 4  # baseline, zero-shot, and the recipes renders-then-photos, merged
    assert {cfg.training for cfg in trained} == {"finetune"} and {cfg.batch for cfg in trained} == {32}
    table = json.loads((out / "summary.json").read_text())
    assert table["mode"] == "finetune" and table["device"] == {"render": "cpu", "torch": "cpu"}
    page = (out / "report.html").read_text()
    assert "fine-tuned with its head, 1 epoch at lr 0.0001, batch 32" in page and "id='zero-shot'" in page
    for path in (out / "runs").glob("*.json"):
        result = json.loads(path.read_text())
        assert 0 <= result["accuracy"] <= 1 and result["best_epoch"] == 1
        assert len(result["predicted"]) == len(result["correct"]) == sum(map(sum, result["confusion"]))
        assert result["config"]["training"] == "finetune"
        # the same run frozen is another run: its key leaves the training mode out
        frozen = {k: v for k, v in result["config"].items() if k not in ("training", "batch")}
        assert RunConfig(**frozen).key() != path.stem == RunConfig(**result["config"]).key()

    trained.clear()
    code, _, err = feint_cli(*args)  # resumed: every run read back, none trained again
    assert code == 0, err
    assert trained == []
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")} == runs
