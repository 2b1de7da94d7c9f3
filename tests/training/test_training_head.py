"""The shared loop pieces and `train_head` as a library call: balance, mix, schedule, loss falls, resume."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
import torch

from feint.training.head import HeadConfig, train_head
from feint.training.loop import epoch_indices, sample_weights, warmup_cosine


def blobs(n: int, classes: int = 3, width: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, width)) * 2
    labels = rng.integers(0, classes, n)
    return (centres[labels] + rng.normal(size=(n, width))).astype(np.float32), labels


def test_draws_are_class_balanced() -> None:
    labels = np.array([0] * 90 + [1] * 10)
    w = sample_weights(labels)
    assert w[labels == 0].sum() == pytest.approx(0.5)
    assert w[labels == 1].sum() == pytest.approx(0.5)


def test_source_mix_sets_the_share_of_draws() -> None:
    labels = np.array([0, 1, 0, 1, 1, 1, 0, 0])
    sources = ["real"] * 2 + ["synthetic"] * 6
    w = sample_weights(labels, sources, {"real": 0.7, "synthetic": 0.3})
    real = np.array(sources) == "real"
    assert w[real].sum() == pytest.approx(0.7)
    assert w[~real & (labels == 0)].sum() == pytest.approx(0.15)  # classes balanced inside a source


def test_epoch_draws_depend_on_seed_and_epoch_only() -> None:
    w = np.full(20, 1 / 20)
    assert np.array_equal(epoch_indices(w, 3, 2), epoch_indices(w, 3, 2))
    assert not np.array_equal(epoch_indices(w, 3, 2), epoch_indices(w, 3, 3))


def test_warmup_then_cosine() -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = warmup_cosine(opt, warmup_steps=4, total_steps=20)
    rates = []
    for _ in range(20):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rates[0] < rates[1] < rates[3] < rates[4] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(rates[4:], rates[5:], strict=False))
    assert rates[-1] < 0.02


def test_head_learns_and_loss_falls() -> None:
    x, y = blobs(390)
    x, y, vx, vy = x[:300], y[:300], x[300:], y[300:]  # one draw of centres: validation from the same classes
    result = train_head(x, y, 3, HeadConfig(epochs=8, lr=1e-2, seed=0), val=(vx, vy))
    losses = [h["train_loss"] for h in result.history]
    assert losses[-1] < 0.6 * losses[0]
    assert (result.predict_proba(vx).argmax(1) == vy).mean() > 0.95
    assert 1 <= result.best_epoch <= 8


def test_head_is_fast_on_study_sized_features() -> None:
    x, y = blobs(4000, classes=10, width=1280)
    started = time.perf_counter()
    train_head(x, y, 10, HeadConfig(epochs=30))
    assert time.perf_counter() - started < 60


def test_head_run_resumed_midway_ends_identical() -> None:
    x, y = blobs(200)
    vx, vy = blobs(60, seed=1)
    cfg = HeadConfig(epochs=6, seed=4, hidden=16)
    full = train_head(x, y, 3, cfg, val=(vx, vy))
    saved: dict[str, Any] = {}

    def stop_after_3(state: Any, improved: bool, ckpt: dict[str, Any]) -> None:
        if state.epoch == 3:
            saved.update({k: (v if k == "loop" else _copy(v)) for k, v in ckpt.items()})
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_head(x, y, 3, cfg, val=(vx, vy), on_epoch=stop_after_3)
    resumed = train_head(x, y, 3, cfg, val=(vx, vy), resume=saved)
    strip = [{k: v for k, v in h.items() if k not in ("seconds", "images_per_second")} for h in full.history]
    again = [
        {k: v for k, v in h.items() if k not in ("seconds", "images_per_second")} for h in resumed.history
    ]
    assert again == strip
    np.testing.assert_array_equal(resumed.predict_proba(vx), full.predict_proba(vx))


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)
