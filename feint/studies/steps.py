"""The built-in study steps, in the order a study runs them (their registration order).

epochs: best epochs vs training-set size, with a linear fit that sets every later run's epochs; baseline:
the curve over real fractions; zero_shot: renders only; finetune: fine-tune vs merged; grid: real x
synthetic; ablations: zero-shot with one graph feature switched off at a time; failure: what the zero-shot
model gets wrong, and what to change in the graph.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from feint.studies.context import StudyContext
from feint.studies.data import Part
from feint.studies.fingerprint import fingerprint
from feint.studies.registry import register_step


def _epochs_runs(ctx: StudyContext) -> int:
    return len(ctx.spec.epochs.fractions) * len(ctx.spec.seeds)


@register_step("epochs", section="epochs", planned=_epochs_runs)
def epochs(ctx: StudyContext) -> None:
    """Best epoch on real validation at several training sizes; least-squares line through them."""
    calls = [
        ("epochs", {"real_fraction": f, "seed": seed, "epochs": ctx.spec.epochs.max_epochs, "validate": True})
        for f in ctx.spec.epochs.fractions
        for seed in ctx.spec.seeds
    ]
    results = ctx.run_all(calls)
    xs = [r["n_real"] for r in results]
    ys = [r["best_epoch"] for r in results]  # counted from 1
    slope, intercept = np.polyfit(xs, ys, 1) if len(set(xs)) > 1 else (0.0, float(np.mean(ys)))
    ctx.fit = {"intercept": float(intercept), "slope": float(slope), "points": list(zip(xs, ys, strict=True))}


def _mixed_fractions(ctx: StudyContext) -> list[float]:
    """The real shares the later steps mix renders into (those of the fine-tune and grid steps)."""
    s = ctx.spec
    wanted = [f for f in s.finetune_fractions if "finetune" in s.steps]
    wanted += [f for f in s.grid_fractions if "grid" in s.steps]
    return sorted({f for f in wanted if f > 0})


def _mixing_runs(ctx: StudyContext) -> int:
    return len(_mixed_fractions(ctx)) * len(_mixing_weights(ctx)) * len(ctx.spec.seeds)


@register_step("mixing", renders=True, section="mixing", planned=_mixing_runs)
def mixing(ctx: StudyContext) -> None:
    """The share of renders per batch at each real share of the later steps, chosen on the real validation
    photos (never the scored ones): merged runs with each candidate share and the run on the photos alone
    (share 0), every seed. The study file's `synthetic_weight` stays unless another share (0: renders left
    out) beats it on the validation photos by more than their noise (`beats`)."""
    s = ctx.spec
    on_val = replace(ctx.data, test=ctx.data.val)
    key = fingerprint(s, on_val)
    per_class = s.synthetic.per_class
    for fraction in _mixed_fractions(ctx):
        correct: dict[float, np.ndarray] = {}
        for weight in _mixing_weights(ctx):
            scores = []
            for seed in s.seeds:
                cfg = ctx.config(fraction, seed, synthetic_per_class=per_class, weight=weight)
                cfg = replace(cfg, data=key)
                result = ctx.store.get_or_run(cfg, on_val, ctx.log("mixing"))
                ctx.row("mixing", cfg, result, scored=False)
                ctx.advance("mixing")
                scores.append(result["correct"])
            correct[weight] = np.mean(scores, axis=0)  # per validation photo, over the seeds
        best = max(correct, key=lambda w: (correct[w].mean(), w == s.synthetic_weight))
        ctx.weights[fraction] = (
            best if beats(correct[best], correct[s.synthetic_weight]) else s.synthetic_weight
        )


def _mixing_weights(ctx: StudyContext) -> list[float]:
    """0 (the photos alone), the candidates and the study's default share, each once, in order."""
    return sorted({0.0, *ctx.spec.mixing.weights, ctx.spec.synthetic_weight})


def beats(challenger: np.ndarray, default: np.ndarray, z: float = 2.0) -> bool:
    """Whether per-photo correctness `challenger` beats `default` on the same photos by more than `z`
    standard errors of the paired difference. A validation split of 152 photos (ships10) tells shares
    apart only by several points: chosen on the mean alone, the share flipped to the photos alone on
    differences of one photo and cost the scored half 1.5-2.3 points (docs/marine-defaults.md)."""
    diff = challenger - default
    if len(diff) < 2 or not diff.any():
        return False
    return bool(diff.mean() > z * diff.std(ddof=1) / np.sqrt(len(diff)))


def _baseline_runs(ctx: StudyContext) -> int:
    return len(ctx.spec.baseline_fractions) * len(ctx.spec.seeds)


@register_step("baseline", section="baseline", planned=_baseline_runs)
def baseline(ctx: StudyContext) -> None:
    """Real photos only, at each of the baseline fractions."""
    ctx.run_all(
        [
            ("baseline", {"real_fraction": fraction, "seed": seed})
            for fraction in ctx.spec.baseline_fractions
            for seed in ctx.spec.seeds
        ]
    )


def _zero_shot_runs(ctx: StudyContext) -> int:
    return len(ctx.spec.seeds)


@register_step("zero_shot", renders=True, section="zero-shot", planned=_zero_shot_runs)
def zero_shot(ctx: StudyContext) -> None:
    """Renders only, scored on the real photos."""
    per_class = ctx.spec.synthetic.per_class
    calls = [
        ("zero_shot", {"real_fraction": 0.0, "seed": seed, "synthetic_per_class": per_class})
        for seed in ctx.spec.seeds
    ]
    ctx.zero_shot = ctx.run_all(calls)[-1]


def _finetune_runs(ctx: StudyContext) -> int:
    return 2 * len(ctx.spec.finetune_fractions) * len(ctx.spec.seeds)


@register_step("finetune", renders=True, section="baseline", planned=_finetune_runs)
def finetune(ctx: StudyContext) -> None:
    """Renders then photos (fine-tune) against both together (merged), at each of the fractions."""
    per_class = ctx.spec.synthetic.per_class
    ctx.run_all(
        [
            (
                f"finetune:{mode}",
                {"real_fraction": fraction, "seed": seed, "mode": mode, "synthetic_per_class": per_class},
            )
            for fraction in ctx.spec.finetune_fractions
            for seed in ctx.spec.seeds
            for mode in ("finetune", "merged")
        ]
    )


def _grid_runs(ctx: StudyContext) -> int:
    return len(ctx.spec.grid_fractions) * len(ctx.spec.grid_synthetic) * len(ctx.spec.seeds)


@register_step("grid", renders=True, section="grid", planned=_grid_runs)
def grid(ctx: StudyContext) -> None:
    """Every real fraction with every amount of renders (the empty cell skipped)."""
    calls = []
    for fraction in ctx.spec.grid_fractions:
        for per_class in ctx.spec.grid_synthetic:
            for seed in ctx.spec.seeds:
                if fraction == 0 and per_class == 0:
                    if ctx.bar is not None:
                        ctx.bar.update(1)
                    continue
                calls.append(
                    ("grid", {"real_fraction": fraction, "seed": seed, "synthetic_per_class": per_class})
                )
    ctx.run_all(calls)


def _ablation_features(ctx: StudyContext) -> dict[str, Any]:
    from feint.graph import load_graph
    from feint.tuning.ablate import feature_table

    s = ctx.spec
    return feature_table(load_graph(s.synthetic.graph).channel, None, s.ablations.features)


def _ablations_runs(ctx: StudyContext) -> int:
    return (len(_ablation_features(ctx)) + 1) * len(ctx.spec.seeds)


@register_step("ablations", renders=True, section="ablations", planned=_ablations_runs)
def ablations(ctx: StudyContext) -> None:
    """Each feature switched off in turn: the graph rendered again with the same image seeds, then the
    zero-shot step's runs (same seeds and epochs) on those renders, scored on the real test photos."""
    from feint.graph.loader import load_graph_dict
    from feint.tuning.ablate import run_ablations

    s = ctx.spec
    per_class = s.ablations.per_class or s.synthetic.per_class
    merged, _ = load_graph_dict(s.synthetic.graph)

    def score(name: str, renders: Part) -> dict[str, float]:
        data = replace(ctx.data, synthetic=renders)  # their class folders are in the same cache
        results = []
        for seed in s.seeds:
            cfg = ctx.config(real_fraction=0.0, seed=seed, synthetic_per_class=per_class)
            cfg = replace(cfg, data=fingerprint(s, data))
            result = ctx.store.get_or_run(cfg, data, ctx.log("ablations"))
            ctx.row(f"ablation:{name}", cfg, result)
            ctx.advance("ablations")
            results.append(result)
        return {k: float(np.mean([r[k] for r in results])) for k in ("accuracy", "balanced_accuracy")}

    ctx.ablations = run_ablations(
        merged,
        _ablation_features(ctx),
        s.classes,
        per_class,
        s.synthetic.size,
        s.synthetic.seed,
        ctx.cache,
        score,
        s.backbone,
        s.image_size,
        None,
        s.synthetic.workers,
        ctx.progress,
        ctx.devices,
    )


@register_step("failure", needs=("zero_shot",), renders=True, section="failure")
def failure(ctx: StudyContext) -> None:
    """What the zero-shot model gets wrong: per-class gaps, mistakes beside their nearest renders, and
    suggestions for the graph (feint/analysis/failure.py)."""
    from feint.analysis.failure import analyse

    if ctx.data.synthetic is not None and ctx.zero_shot is not None:
        ctx.failure = analyse(ctx.data, ctx.zero_shot, ctx.out / "failure")
