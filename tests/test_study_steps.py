"""The registry of study steps: a study file's `steps` are checked against it, a step runs with the steps
it needs in registration order, and a step registered from outside runs in a study like a built-in one."""

from collections.abc import Iterator

import pytest

from feint.errors import FeintError
from feint.studies.context import StudyContext
from feint.studies.registry import STEPS, chosen_steps, register_step
from feint.studies.spec import StudySpec, load_study

BUILTIN = ["epochs", "mixing", "baseline", "zero_shot", "finetune", "grid", "ablations", "failure"]


@pytest.fixture
def unregister() -> Iterator[list[str]]:
    """Names registered by the test, taken out of the registry again after it."""
    names: list[str] = []
    yield names
    for name in names:
        STEPS.pop(name, None)


def test_the_built_in_steps_are_registered_in_the_order_they_run():
    assert list(STEPS)[: len(BUILTIN)] == BUILTIN
    assert STEPS["failure"].needs == ("zero_shot",) and STEPS["zero_shot"].section == "zero-shot"
    assert [s.name for s in STEPS.values() if s.renders] == [
        "mixing",
        "zero_shot",
        "finetune",
        "grid",
        "ablations",
        "failure",
    ]


def test_a_step_brings_the_steps_it_needs_in_registration_order():
    assert [s.name for s in chosen_steps(["failure", "baseline"])] == ["baseline", "zero_shot", "failure"]
    assert [s.name for s in chosen_steps(["grid", "epochs"])] == ["epochs", "grid"]
    with pytest.raises(FeintError, match="'typo' is not a study step"):
        chosen_steps(["typo"])


def test_an_unknown_step_in_a_study_file_names_the_known_ones(tmp_path):
    (tmp_path / "photos").mkdir()
    study = tmp_path / "s.yaml"
    study.write_text("name: s\nreal: photos\nclasses: [a]\nsteps: [baseline, zero-shot]\n")
    with pytest.raises(FeintError) as err:
        load_study(study)
    assert str(err.value) == (
        f"{study}: steps.1: 'zero-shot' is not a study step (known: {', '.join(STEPS)})"
    )


def test_a_step_is_registered_once_and_after_the_steps_it_needs(unregister):
    with pytest.raises(ValueError, match="'baseline' is registered already"):
        register_step("baseline")(lambda ctx: None)
    with pytest.raises(ValueError, match="needs later_step: register those first"):
        register_step("early_step", needs=("later_step",))(lambda ctx: None)
    assert "early_step" not in STEPS


def test_a_registered_step_runs_in_a_tiny_study(tiny_spec, tmp_path, unregister):
    """A toy step, registered like a built-in one, is accepted in `steps`, runs after the steps registered
    before it (it sees their runs), and leaves the table as the built-in steps made it."""
    from feint.studies.study import StudyRunner

    seen: list[int] = []
    unregister.append("count_runs")

    @register_step("count_runs")
    def count_runs(ctx: StudyContext) -> None:
        seen.append(len(ctx.rows))

    spec = StudySpec.model_validate({**tiny_spec.model_dump(), "steps": ["count_runs", "baseline"]})
    result = StudyRunner(spec, tmp_path / "study", tmp_path / "cache", progress=False).run()
    assert seen == [len(tiny_spec.baseline_fractions) * len(tiny_spec.seeds)] == [len(result.table)]
    assert set(result.table.step) == {"baseline"}
    assert "id='baseline'" in (tmp_path / "study" / "report.html").read_text()
