"""One study run: the mirrored real photos' features join the photos when asked for, every head gets the
run's label smoothing, a merged run draws renders at the study's share, and runs with renders take at
most `epochs.max_steps` steps."""

import numpy as np
import pytest

from feint.studies.data import Part, StudyData, align_domains
from feint.studies.runs import RunConfig, execute
from feint.training import head as head_module


def _part(n: int, rng: np.random.Generator, mirrored: bool = False, shift: float = 0.0) -> Part:
    labels = np.arange(n) % 2
    features = rng.normal(shift, 1, size=(n, 3)).astype(np.float32)
    flipped = rng.normal(shift, 1, size=(n, 3)).astype(np.float32) if mirrored else None
    return Part([], labels, [str(i) for i in range(n)], features, mirrored=flipped)


def _data() -> StudyData:
    rng = np.random.default_rng(0)
    train = _part(20, rng, mirrored=True)
    return StudyData(["a", "b"], train, _part(4, rng), _part(10, rng), _part(30, rng, shift=2.0), None)


@pytest.fixture
def heads(monkeypatch) -> list[tuple[np.ndarray, np.ndarray, object, dict]]:
    """(features, labels, config, other keyword arguments) of every head a run trains, in order."""
    seen = []
    real_train_head = head_module.train_head

    def recording(features, labels, n_classes, config, *args, **kwargs):
        seen.append((np.asarray(features), np.asarray(labels), config, kwargs))
        return real_train_head(features, labels, n_classes, config, *args, **kwargs)

    monkeypatch.setattr(head_module, "train_head", recording)
    return seen


@pytest.mark.parametrize("mode", ["merged", "finetune"])
@pytest.mark.parametrize("mirror", [False, True])
def test_a_run_trains_on_the_mirrored_photos_only_when_asked(heads, mode, mirror):
    data = _data()
    config = RunConfig(1.0, 15, mode, 0, 3, 1e-3, 0, 0.5, align="auto", mirror=mirror)
    result = execute(config, data)

    aligned = align_domains(data, "auto", photos_trained=True)
    photos = heads[-1][0][: len(data.train.labels)]  # the photos come first in both modes
    assert np.allclose(photos, aligned.train.features)
    rows = heads[-1][0]
    if mirror:  # the mirrored rows follow the photos, moved by the same alignment, with the same labels
        flipped = rows[len(data.train.labels) : 2 * len(data.train.labels)]
        assert np.allclose(flipped, aligned.train.mirrored)
        assert np.array_equal(heads[-1][1][: 2 * 20], np.concatenate([data.train.labels] * 2))
    expected = 20 * (2 if mirror else 1) + (30 if mode == "merged" else 0)
    assert len(rows) == expected
    assert result["n_real"] == 20  # photos, not feature rows


@pytest.mark.parametrize("mode", ["merged", "finetune"])
def test_label_smoothing_reaches_every_head_of_a_run_and_its_key(heads, mode):
    smooth = RunConfig(1.0, 15, mode, 0, 3, 1e-3, 0, 0.5, label_smoothing=0.3)
    sharp = RunConfig(1.0, 15, mode, 0, 3, 1e-3, 0, 0.5, label_smoothing=0.0)
    execute(smooth, _data())
    configs = [config for _, _, config, _ in heads]
    assert configs and all(c.label_smoothing == 0.3 for c in configs)
    assert smooth.key() != sharp.key()  # a study re-runs what a different smoothing would change


@pytest.mark.parametrize("share", [0.2, 0.5])
def test_a_merged_run_draws_renders_at_the_studys_share(heads, share):
    from feint.training.loop import sample_weights

    config = RunConfig(0.5, 15, "merged", 0, 3, 1e-3, 0, share)
    execute(config, _data())
    _, labels, _, kwargs = heads[-1]
    sources = np.asarray(kwargs["sources"])
    assert set(sources) == {"real", "synthetic"}
    drawn = sample_weights(labels, sources, kwargs["mix"])
    assert drawn[sources == "synthetic"].sum() == pytest.approx(share)  # whatever the rows' counts
    other = 0.7 - share  # the other parametrised share
    assert config.key() != RunConfig(0.5, 15, "merged", 0, 3, 1e-3, 0, other).key()  # a study re-runs it


def test_a_run_takes_the_epoch_fit_and_a_run_with_renders_no_more_than_max_steps():
    from feint.studies.context import epochs_for
    from feint.studies.spec import EpochSpec

    bounds = EpochSpec(max_epochs=60, min_epochs=5, max_steps=500)
    fit = {"intercept": 10.0, "slope": 0.1}  # 10 epochs at 0 images, 60 (the cap) from 500 on
    assert epochs_for(bounds, fit, 0) == 10 and epochs_for(bounds, fit, 4000) == 60  # photos only: the fit
    assert epochs_for(bounds, fit, 50, 100) == 15  # with renders: 2 steps an epoch, far below the step cap
    assert epochs_for(bounds, fit, 4000, 4000) == 500 // 63  # 63 batches of 64 an epoch: the step cap wins
    assert epochs_for(bounds, fit, 4000, 10**6) == 1  # at least one pass


def test_a_merged_run_whose_renders_are_left_out_is_the_run_on_its_photos_alone():
    from feint.studies.runs import renders_left_out

    data = _data()
    left_out = execute(RunConfig(0.5, 15, "merged", 0, 3, 1e-3, 0, 0.0), data)
    photos = execute(RunConfig(0.5, 0, "merged", 0, 3, 1e-3, 0, 0.2), data)
    assert left_out["n_synthetic"] == 0 and left_out["n_real"] == photos["n_real"] > 0
    assert left_out["predicted"] == photos["predicted"] and left_out["accuracy"] == photos["accuracy"]
    assert not renders_left_out("finetune", 10, 0.0)  # renders then photos: the weight plays no part
    assert not renders_left_out("merged", 0, 0.0)  # renders only: nothing to leave them out for
