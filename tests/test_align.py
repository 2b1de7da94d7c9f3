"""Domain alignment of a study's features: renders and photos each centred on their own mean."""

import numpy as np

from feint.studies.data import Part, StudyData, align_domains
from feint.studies.runs import RunConfig, execute


def _part(features: np.ndarray, labels: np.ndarray) -> Part:
    return Part([], labels, [str(i) for i in range(len(labels))], features.astype(np.float32))


def _data(offset: float, rng: np.random.Generator) -> StudyData:
    """Two classes apart along feature 0; the photos sit `offset` away from the renders along feature 1,
    further than the classes are apart (the domain gap a zero-shot head trips over)."""

    def draw(n: int, shift: float) -> Part:
        labels = np.arange(n) % 2
        x = rng.normal(0, 0.3, size=(n, 4))
        x[:, 0] += np.where(labels == 1, 1.0, -1.0)
        x[:, 1] += shift
        x[:, 2] += shift * (labels - 0.5)  # the gap also tilts the classes: a head on renders mis-scores
        return _part(x, labels)

    return StudyData(["a", "b"], draw(40, offset), draw(10, offset), draw(40, offset), draw(60, 0.0), None)


def test_align_centres_each_domain_without_looking_at_test():
    data = _data(5.0, np.random.default_rng(0))
    aligned = align_domains(data)
    real = np.concatenate([aligned.train.features, aligned.val.features])
    assert np.allclose(real.mean(0), 0, atol=1e-5)
    assert np.allclose(aligned.synthetic.features.mean(0), 0, atol=1e-5)
    moved_test = StudyData(
        data.classes,
        data.train,
        data.val,
        _part(data.test.features + 100, data.test.labels),
        data.synthetic,
        None,
    )
    assert np.allclose(align_domains(moved_test).train.features, aligned.train.features)
    assert np.allclose(align_domains(moved_test).test.features, aligned.test.features + 100)


def test_aligned_zero_shot_beats_plain_across_a_domain_gap():
    data = _data(5.0, np.random.default_rng(1))
    common = dict(
        real_fraction=0.0,
        synthetic_per_class=30,
        mode="merged",
        seed=0,
        epochs=30,
        lr=1e-2,
        hidden=0,
        synthetic_weight=0.5,
    )
    plain = execute(RunConfig(**common), data)["accuracy"]
    aligned = execute(RunConfig(**common, align=True), data)["accuracy"]
    assert aligned > plain + 0.2
    assert aligned >= 0.9
