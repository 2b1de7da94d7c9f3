"""Ablations: which parts of the scene earn their render time?

The graph is rendered as it is ("full") and once per feature switched off (the same image seeds, so
the sets differ only by that feature); a frozen-backbone head trained on each set of renders alone is
scored on real photos. The drop (full minus ablated balanced accuracy) is what the feature is worth.
A feature is a set of graph overrides; the built-in tables below, or a YAML file of them
(`name: {parameter.path: value, ...}`) with `feint ablate --table`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from feint.errors import FeintError
from feint.graph.loader import load_graph, load_graph_dict
from feint.graph.overrides import apply_overrides, validate_graph
from feint.io import write_bytes_atomic, write_json_atomic, write_text_atomic
from feint.studies.data import Part, render_balanced
from feint.training.device import Devices
from feint.tuning.score import real_part, render_part, resolve_classes, zero_shot

# Each feature: the overrides that switch it off (the rest of the graph untouched).
FEATURES: dict[str, dict[str, dict[str, Any]]] = {
    "marine": {
        "clouds": {"sky.clouds": 0.0, "sky.overcast": 0.0},
        "haze": {"atmosphere.visibility_km": 1000.0},
        "distractors": {"background.distractors": 0},
        "backgrounds": {"background.kind": "open_sea"},
        "wear": {"ship.rust": 0.0, "ship.dirt": 0.0, "ship.snow": 0.0},
        "warp": {"ship.warp": 0.0},
        "waves": {"sea.waves": 0.0, "sea.foam": 0.0},
        "wake": {"sea.wake": 0.0},
        "motion_blur": {"post.motion_blur": 0.0},
        "focus_blur": {"post.focus_blur": 0.0},
        "partial_views": {"camera.fill": {"uniform": [0.75, 0.95]}},
        "sensor_noise": {"post.noise": 0.0},
        "jpeg": {"post.jpeg_quality": 100},
        "colour_jitter": {"post.exposure": 0.0, "post.contrast": 1.0, "post.saturation": 1.0},
        "crop": {"post.crop": False},
        "cutout": {"post.cutout": False},
        "low_detail": {"post.low_detail": False},
    },
}


def feature_table(channel: str, table: Path | None = None, names: list[str] | None = None) -> dict[str, Any]:
    """The features to switch off: from `table` (a YAML file) or the channel's built-in table, all of them
    or `names` (in that order)."""
    if table is not None:
        try:
            known = yaml.safe_load(Path(table).read_text())
        except FileNotFoundError:
            raise FeintError(f"{table}: feature table not found") from None
        except yaml.YAMLError as err:
            raise FeintError(f"{table}: malformed YAML: {str(err).splitlines()[0]}") from None
        if not isinstance(known, dict) or not all(isinstance(v, dict) and v for v in known.values()):
            raise FeintError(f"{table}: expected `feature: {{parameter.path: value, ...}}`, one per feature")
    elif channel in FEATURES:
        known = FEATURES[channel]
    else:
        raise FeintError(f"no built-in ablation features for the {channel} channel: give --table FILE")
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise FeintError(f"unknown feature {', '.join(unknown)}; known: {', '.join(map(str, known))}")
    if "full" in known:
        raise FeintError("`full` names the graph as it is; call the feature something else")
    return {str(n): known[n] for n in names or known}


def switched_off(merged: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The graph with `overrides` applied, also to every class's own draw of the same parameters: a
    feature switched off is off for every class (carriers' own cut-out rate included)."""
    extra = {}
    for cls, spec in (merged.get("classes") or {}).items():
        own = (spec or {}).get("overrides") or {}
        for path, value in overrides.items():
            section, _, name = path.partition(".")
            if name in (own.get(section) or {}):
                extra[f"classes.{cls}.overrides.{path}"] = value
    return apply_overrides(merged, {**overrides, **extra})


def describe(overrides: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {json.dumps(v)}" for k, v in overrides.items())


def run_ablations(
    merged: dict[str, Any],
    features: dict[str, dict[str, Any]],
    classes: list[str],
    per_class: int,
    size: int,
    seed: int,
    root: Path,
    score: Callable[[str, Part], dict[str, float]],
    backbone: str,
    image_size: int,
    cache: Path | None = None,
    workers: int = 1,
    progress: bool = True,
    devices: Devices | None = None,
) -> pd.DataFrame:
    """Render the full graph and each ablated one into `root/renders/` (a folder per class, cached by graph,
    class, seed and size), score each with `score(name, renders)` -> accuracy, balanced_accuracy; one table
    row per graph. `devices`: where Cycles renders and torch computes the features (default: the graph's
    render.device, torch on the CPU)."""
    devices = devices or Devices()
    graphs = {"full": merged}
    for name, overrides in features.items():
        graphs[name] = switched_off(merged, overrides)
        try:
            validate_graph(graphs[name])  # every ablated graph is checked before anything renders
        except FeintError as err:
            raise FeintError(f"feature {name}: {err}") from None
    rows = []
    for name, data in graphs.items():
        folders = render_balanced(
            data, classes, per_class, size, seed, root, workers, progress=progress, device=devices.render
        )
        renders = render_part(folders, classes, per_class, backbone, image_size, cache, devices.torch)
        scores = score(name, renders)
        rows.append(
            {
                "feature": name,
                "switched_off": describe(features.get(name, {})),
                "accuracy": scores["accuracy"],
                "balanced_accuracy": scores["balanced_accuracy"],
                "render_s_per_image": seconds_per_image(folders),
                "renders": len(renders.labels),
            }
        )
    table = pd.DataFrame(rows)
    table.insert(4, "drop", table.balanced_accuracy.iloc[0] - table.balanced_accuracy)
    return table


def seconds_per_image(folders: list[Path]) -> float:
    """Mean render seconds per image over the class folders: each card's mean weighted by the images it
    tried (failed ones cost render time too)."""
    cards = [json.loads((folder / "dataset.json").read_text()) for folder in folders]
    tried = [card["images"] + card["failed"] for card in cards]
    total = sum(card["render_seconds_mean"] * n for card, n in zip(cards, tried, strict=True))
    return total / max(sum(tried), 1)


def write_ablations(table: pd.DataFrame, out: Path) -> None:
    """ablations.csv, ablations.json and the bar chart ablations.png in `out`."""
    from feint.reports.ablations import chart_png

    write_text_atomic(out / "ablations.csv", table.to_csv(index=False))
    write_json_atomic(out / "ablations.json", table.to_dict(orient="records"))
    write_bytes_atomic(out / "ablations.png", chart_png(table))


def ablate(
    graph: str,
    real: Path,
    out: Path,
    split: str | None = None,
    classes: list[str] | None = None,
    features: list[str] | None = None,
    table: Path | None = None,
    per_class: int = 12,
    size: int = 128,
    seed: int = 0,
    workers: int = 1,
    backbone: str = "efficientnet_lite0",
    image_size: int = 224,
    cache: Path | None = None,
    head_seeds: tuple[int, ...] = (0, 1, 2),
    progress: bool = True,
    overwrite: bool = False,
    devices: Devices | None = None,
) -> pd.DataFrame:
    """`feint ablate`: renders cached in the feature cache (shared with studies), results in `out` (new, or
    an earlier ablation folder with `overwrite`); rendered and scored on `devices` (`resolve_devices`),
    which the output card records."""
    devices = devices or Devices()
    from feint.datasets import load_dataset
    from feint.outputs import Inputs, check_folder_output, folder_output, write_output_card
    from feint.training.cache import cache_root

    loaded = load_graph(graph)
    merged, _ = load_graph_dict(graph)
    chosen = feature_table(loaded.channel, table, features)
    real_data = load_dataset(Path(real), None, split)
    protected = Inputs.of_datasets([real], [real_data])
    check_folder_output(out, protected, overwrite)
    names = resolve_classes(loaded, real_data, classes, real)
    real_set, _ = real_part(real, split, names, backbone, image_size, cache, progress, devices.torch)

    def score(name: str, renders: Part) -> dict[str, float]:
        return zero_shot(renders, real_set, len(names), head_seeds, device=devices.torch)

    result = run_ablations(
        merged,
        chosen,
        names,
        per_class,
        size,
        seed,
        cache_root(cache),
        score,
        backbone,
        image_size,
        cache,
        workers,
        progress,
        devices,
    )
    with folder_output(out, protected, overwrite) as tmp:
        write_ablations(result, tmp)
        write_output_card(
            tmp,
            "ablate",
            {
                "graph": str(graph),
                "real": str(real),
                "split": split,
                "per_class": per_class,
                "size": size,
                "seed": seed,
                "device": devices.record(),
            },
        )
    return result
