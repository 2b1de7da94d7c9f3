"""The mixing step: the share of renders per batch chosen per real share on the validation photos, the
later mixed runs at that share trained with it, the default kept unless another share beats it beyond the
noise of the validation photos, and renders left out where they cost accuracy beyond it."""

from pathlib import Path

import numpy as np
import pytest

from feint.studies.context import StudyContext
from feint.studies.data import Part, StudyData
from feint.studies.runs import RunStore
from feint.studies.spec import MixingSpec, StudySpec
from feint.studies.steps import beats, grid, mixing


def _part(labels: np.ndarray, rng: np.random.Generator, noise: float, sign: float = 1.0) -> Part:
    """Two classes apart along the diagonal of 64 features (`sign` -1: the classes swapped)."""
    features = rng.normal(0, noise, size=(len(labels), 64)).astype(np.float32)
    features += 0.3 * sign * (2 * labels - 1)[:, None]
    return Part([], labels, [str(i) for i in range(len(labels))], features)


def _context(tmp_path: Path, renders_sign: float, photos: int, noise: float) -> StudyContext:
    """A study of two classes: `photos` training photos (`noise`: how noisy), validation and test photos,
    and 200 renders per class whose classes are right (`renders_sign` 1) or swapped (-1)."""
    rng = np.random.default_rng(0)
    labels = lambda n: np.arange(n) % 2  # noqa: E731
    data = StudyData(
        ["a", "b"],
        _part(labels(photos), rng, noise),
        _part(labels(200), rng, 1.0),
        _part(labels(60), rng, 1.0),
        _part(labels(400), rng, 1.0, renders_sign),
        None,
    )
    spec = StudySpec(
        name="mix",
        real="photos",
        classes=["a", "b"],
        seeds=[0, 1],
        synthetic={"per_class": 200},
        steps=["mixing", "grid"],
        grid_fractions=[0.0, 1.0],
        grid_synthetic=[200],
        mixing={"weights": [0.05, 0.5]},  # and the default, 0.2
        align="none",
        mirror=False,
    )
    return StudyContext(spec, data, "key", tmp_path, tmp_path, RunStore(tmp_path / "runs"), progress=False)


def test_the_share_of_renders_is_chosen_on_the_validation_photos_and_used_by_the_later_runs(tmp_path):
    ctx = _context(tmp_path, 1.0, photos=6, noise=4.0)  # a few noisy photos, renders that teach the classes
    mixing(ctx)
    rows = [r for r in ctx.rows if r["step"] == "mixing"]
    assert {r["synthetic_weight"] for r in rows} == {0.0, 0.05, 0.2, 0.5} and len(rows) == 4 * 2
    means = {w: np.mean([r["accuracy"] for r in rows if r["synthetic_weight"] == w]) for w in (0.2, 0.5)}
    assert ctx.weights == {1.0: 0.5} and means[0.5] > means[0.2] + 0.05  # half renders: far better here
    assert all((ctx.store.folder / f"{r['run']}.json").is_file() for r in rows)
    assert not ctx.trained_on_photos  # scored on validation photos: not among the hard photos' runs

    grid(ctx)
    mixed = [r for r in ctx.rows if r["step"] == "grid" and r["n_real"] and r["n_synthetic"]]
    assert mixed and all(r["synthetic_weight"] == 0.5 for r in mixed)
    renders_only = [r for r in ctx.rows if r["step"] == "grid" and not r["n_real"]]
    assert renders_only and all(r["synthetic_weight"] == ctx.spec.synthetic_weight for r in renders_only)


def test_renders_that_cost_accuracy_beyond_the_noise_are_left_out_of_the_mixed_runs(tmp_path):
    ctx = _context(tmp_path, -1.0, photos=800, noise=1.0)  # renders teach the classes the wrong way round
    ctx.spec = ctx.spec.model_copy(update={"mixing": MixingSpec(weights=[0.5])})
    mixing(ctx)
    assert ctx.weights == {1.0: 0.0}
    grid(ctx)
    at_full = [r for r in ctx.rows if r["step"] == "grid" and r["real_fraction"] == 1.0]
    assert at_full and all(r["n_synthetic"] == 0 and r["synthetic_per_class"] == 200 for r in at_full)


def test_a_share_replaces_the_default_only_beyond_the_noise_of_the_validation_photos():
    rng = np.random.default_rng(0)
    default = (rng.random(180) < 0.9).astype(float)  # 180 validation photos, 90 % right
    one_more = default.copy()
    one_more[np.flatnonzero(default == 0)[0]] = 1  # one photo more: a 0.6-point gain, luck
    assert not beats(one_more, default)
    better = default.copy()
    better[np.flatnonzero(default == 0)[:12]] = 1  # twelve photos more and none fewer: not luck
    assert beats(better, default) and not beats(default, better)
    assert not beats(default, default)
    worse_elsewhere = better.copy()
    worse_elsewhere[np.flatnonzero(default == 1)[:10]] = 0  # twelve gained, ten lost: noise
    assert not beats(worse_elsewhere, default)


def test_a_study_file_refuses_a_share_of_renders_outside_zero_to_one(tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        StudySpec(name="s", real="r", classes=["a"], mixing={"weights": [0.0]})
    with pytest.raises(ValidationError):
        StudySpec(name="s", real="r", classes=["a"], mixing={"weights": [1.0]})
