"""Domain alignment of a study's features: renders moved onto the photos' statistics, photos centred."""

import numpy as np
import pytest

from feint.studies.data import Part, StudyData, align_domains
from feint.studies.runs import RunConfig, execute
from feint.studies.spec import StudySpec
from feint.training.align import alignment_of


def _part(features: np.ndarray, labels: np.ndarray) -> Part:
    return Part([], labels, [str(i) for i in range(len(labels))], features.astype(np.float32))


def _data(offset: float, rng: np.random.Generator, spread: float = 1.0) -> StudyData:
    """Two classes apart along feature 0; the photos sit `offset` away from the renders along feature 1,
    further than the classes are apart (the domain gap a zero-shot head trips over), and their classes lie
    `spread` times as far apart as the renders' do."""

    def draw(n: int, shift: float, scale: float = 1.0) -> Part:
        labels = np.arange(n) % 2
        x = rng.normal(0, 0.3, size=(n, 4))
        x[:, 0] += np.where(labels == 1, 1.0, -1.0) * scale
        x[:, 1] += shift
        x[:, 2] += shift * (labels - 0.5)  # the gap also tilts the classes: a head on renders mis-scores
        return _part(x, labels)

    real = [draw(n, offset, spread) for n in (40, 10, 40)]
    return StudyData(["a", "b"], *real, draw(60, 0.0), None)


@pytest.mark.parametrize("how", ["match", "centre"])
def test_align_moves_each_domain_without_looking_at_test(how):
    data = _data(5.0, np.random.default_rng(0))
    aligned = align_domains(data, how)
    real = np.concatenate([aligned.train.features, aligned.val.features])
    assert np.allclose(real.mean(0), 0, atol=1e-5)
    assert np.allclose(aligned.synthetic.features.mean(0), 0, atol=1e-5)
    photos = np.concatenate([data.train.features, data.val.features])
    assert np.allclose(real.std(0), photos.std(0), atol=1e-5)  # the photos keep their own scale
    if how == "match":  # the renders take the photos' spread, per feature
        assert np.allclose(aligned.synthetic.features.std(0), real.std(0), rtol=1e-3)
    else:
        assert np.allclose(aligned.synthetic.features.std(0), data.synthetic.features.std(0), atol=1e-5)
    moved_test = StudyData(
        data.classes,
        data.train,
        data.val,
        _part(data.test.features + 100, data.test.labels),
        data.synthetic,
        None,
    )
    assert np.allclose(align_domains(moved_test, how).train.features, aligned.train.features)
    moved = align_domains(moved_test, how).test.features - aligned.test.features
    assert np.allclose(moved, moved[0]) and (moved[0] > 0).all()  # shifted, not re-centred on the test


def _zero_shot(data: StudyData, per_class: int, align: str) -> dict:
    """A study's zero-shot run (renders only) on `data` with the given alignment."""
    config = RunConfig(
        real_fraction=0.0,
        synthetic_per_class=per_class,
        mode="merged",
        seed=0,
        epochs=30,
        lr=1e-2,
        hidden=0,
        synthetic_weight=0.5,
        align=align,
    )
    return execute(config, data)


def test_aligned_zero_shot_beats_plain_across_a_domain_gap():
    data = _data(5.0, np.random.default_rng(1))
    plain = _zero_shot(data, 30, "none")["accuracy"]
    aligned = _zero_shot(data, 30, "centre")["accuracy"]
    assert aligned > plain + 0.2
    assert aligned >= 0.9


def test_matching_also_bridges_a_difference_in_spread():
    """Two features carry the class in the renders; in the photos one of them is drowned in noise and the
    other has a tenth of the contrast. Centring keeps the head leaning on the noisy one; giving the renders
    the photos' spread per feature teaches it to lean on the clean one."""
    rng = np.random.default_rng(2)

    def draw(n: int, noise0: float, contrast1: float) -> Part:
        labels = np.arange(n) % 2
        sign = np.where(labels == 1, 1.0, -1.0)
        x = rng.normal(0, 0.3, size=(n, 4))
        x[:, 0] = sign + rng.normal(0, noise0, n)
        x[:, 1] = contrast1 * (sign + rng.normal(0, 0.3, n))
        return _part(x, labels)

    real = [draw(n, 5.0, 0.1) for n in (200, 50, 200)]
    data = StudyData(["a", "b"], *real, draw(600, 0.3, 1.0), None)
    centred = _zero_shot(data, 300, "centre")["balanced_accuracy"]
    matched = _zero_shot(data, 300, "match")["balanced_accuracy"]
    assert matched > centred + 0.15 and matched >= 0.8


def test_alignment_configs_read_old_booleans_and_refuse_unknown_names():
    assert [alignment_of(v) for v in (True, False, "centre")] == ["auto", "none", "centre"]
    spec = dict(name="s", real=".", classes=["a", "b"])
    assert StudySpec.model_validate({**spec, "align": True}).align == "auto"
    assert StudySpec.model_validate(spec).align == "auto"
    with pytest.raises(ValueError, match="unknown alignment 'whiten'"):
        StudySpec.model_validate({**spec, "align": "whiten"})


def test_auto_matches_renders_alone_and_centres_when_photos_are_trained_on():
    data = _data(5.0, np.random.default_rng(3), spread=3.0)
    for photos_trained, same_as in ((False, "match"), (True, "centre")):
        auto = align_domains(data, "auto", photos_trained)
        expected = align_domains(data, same_as)
        assert np.allclose(auto.synthetic.features, expected.synthetic.features)
        assert np.allclose(auto.test.features, expected.test.features)
    matched, centred = align_domains(data, "match"), align_domains(data, "centre")
    assert not np.allclose(matched.synthetic.features, centred.synthetic.features)
