"""A study file: what real data, which classes, which graph, which steps — validated at the edge."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from feint.errors import FeintError
from feint.studies.registry import STEPS, unknown_step
from feint.training.align import AlignmentField

BUILTIN_STUDIES = ("ships4", "ships10")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SyntheticSpec(Strict):
    """Renders from the graph: `per_class` is the most any step uses; smaller amounts are nested prefixes."""

    graph: str = "marine"
    per_class: int = Field(1000, ge=1)
    size: int = Field(160, ge=16)
    seed: int = 0
    workers: int = Field(1, ge=1)  # one Cycles process already uses every core (benchmarks/render.py)


class EpochSpec(Strict):
    """Step 2: best epoch (on real validation) at a few training-set sizes, then a line through them.
    `max_steps` caps the optimiser steps of a run with renders: the line is measured on sets of real
    photos (tens to hundreds of rows) and would give sets of thousands of renders as many passes, where a
    head on renders is best after a few hundred steps (docs/marine-defaults.md)."""

    fractions: list[float] = [0.1, 0.3, 1.0]
    max_epochs: int = Field(60, ge=1)
    min_epochs: int = Field(5, ge=1)
    max_steps: int = Field(500, ge=1)


class AblationSpec(Strict):
    """The `ablations` step: graph features switched off one at a time (feint/tuning/ablate.py), each scored
    like the zero-shot step. `features`: names from the channel's built-in table (default: all of them);
    `per_class`: renders per class of each graph (default: the synthetic set's)."""

    features: list[str] | None = None
    per_class: int | None = Field(None, ge=1)


class FinetuningSpec(Strict):
    """`mode: finetune`: every run trains the backbone and a new head on its images (its real photos and
    renders, augmented; feint/training/finetune.py), `epochs` epochs of AdamW at `lr` (the head 10 times
    faster), warm-up then cosine, `batch` images a step. The epoch fit of frozen heads does not apply.
    `--quick` trains at most `QUICK_FINETUNE_EPOCHS` unless the file's `quick:` sets `finetuning`."""

    epochs: int = Field(8, ge=1)
    lr: float = Field(1e-4, gt=0)
    batch: int = Field(32, ge=1)


class MixingSpec(Strict):
    """The `mixing` step: for each real share of the later steps, mixed runs with each of `weights` (the
    share of each batch drawn from renders), with the study's `synthetic_weight` and with the photos alone
    (0), scored on the real validation photos (never the scored ones). The later mixed runs at that share
    keep `synthetic_weight` unless another share beats it there by more than the photos' noise (0: the
    renders are left out at that share). `weights` may not hold 0: that choice is always there."""

    weights: list[Annotated[float, Field(gt=0, lt=1)]] = [0.05, 0.1, 0.35, 0.5]


QUICK_FINETUNE_EPOCHS = 2


def registered_step(name: str) -> str:
    """A name in `steps:` must be a registered study step (feint/studies/registry.py)."""
    if name not in STEPS:
        raise PydanticCustomError("study_step", unknown_step(name))
    return name


class StudySpec(Strict):
    name: str
    real: str = Field(description="real data (ImageFolder, manifest, COCO...), relative to the study file")
    test: str | None = None
    classes: list[str]
    class_map: dict[str, str | None] = {}
    split_ratios: tuple[float, float, float] = (0.7, 0.1, 0.2)
    split_seed: int = 0
    backbone: str = "efficientnet_lite0"
    image_size: int = Field(224, ge=16)
    # frozen: heads on cached backbone features (seconds a run); finetune: backbone and head trained on
    # the images of each run (`finetuning`; far more compute a run: meant for a GPU, `--device cuda`).
    mode: Literal["frozen", "finetune"] = "frozen"
    finetuning: FinetuningSpec = FinetuningSpec()
    lr: float = 1e-3
    hidden: int = 0
    seeds: list[int] = [0, 1, 2]
    synthetic: SyntheticSpec = SyntheticSpec()
    # `ablations` is opt-in: it renders the graph once more per feature.
    steps: list[Annotated[str, AfterValidator(registered_step)]] = [
        "baseline",
        "epochs",
        "mixing",
        "zero_shot",
        "failure",
        "finetune",
        "grid",
    ]
    baseline_fractions: list[float] = [0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0]
    epochs: EpochSpec = EpochSpec()
    finetune_fractions: list[float] = [0.05, 0.1, 0.2, 0.4, 1.0]
    grid_fractions: list[float] = [0.0, 0.1, 0.2, 0.4, 0.6, 1.0]
    grid_synthetic: list[int] = [0, 250, 500, 1000]
    ablations: AblationSpec = AblationSpec()
    # Share of each batch of a mixed run drawn from renders. 0.2 beat 0.5 on validation photos, most where
    # photos are plenty (docs/marine-defaults.md): the renders then add context without drowning the photos.
    synthetic_weight: float = Field(0.2, gt=0, lt=1, description="share of each batch drawn from renders")
    # The `mixing` step replaces it at a real share where another share beats it on the validation photos
    # beyond their noise (`MixingSpec`).
    mixing: MixingSpec = MixingSpec()
    # Align render features to the statistics of the real train/val photos (labels unused): a large
    # zero-shot gain for no cost (feint/training/align.py).
    align: AlignmentField = "auto"
    # Train on the features of the mirrored real photos too: the frozen mode's flip augmentation, as
    # `feint train --mode frozen` does, so the real-only baseline is as strong as feint's own training.
    mirror: bool = True
    # Label smoothing of every head's loss; none by default: with smoothing the validation loss turns early,
    # so the epoch fit under-trains the real-only heads (docs/marine-defaults.md).
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    # What the runs are scored on. "validation": they train on one half of the training split (cut by
    # group) and are scored on the other; the test split is never read. For choosing recipes and graphs
    # without tuning on the test split.
    score_on: Literal["test", "validation"] = "test"
    quick: dict[str, object] = {}

    def quick_version(self) -> StudySpec:
        """The reduced study of `--quick`: the file's `quick:` overrides on top of the full one."""
        data = self.model_dump()
        for key, value in self.quick.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        if data["mode"] == "finetune" and "finetuning" not in self.quick:
            quick_epochs = min(self.finetuning.epochs, QUICK_FINETUNE_EPOCHS)
            data["finetuning"] = {**data["finetuning"], "epochs": quick_epochs}
        data["quick"] = {}
        data["name"] = f"{self.name}-quick"
        return StudySpec.model_validate(data)

    def folder_name(self) -> str:
        """The study's default folder under runs/: a study scored on validation photos gets its own, so it
        never writes its report over the test-scored one of the same name."""
        return f"study-{self.name}" + ("-validation" if self.score_on == "validation" else "")


def load_study(
    ref: str | Path, real: str | None = None, test: str | None = None, graph: str | None = None
) -> StudySpec:
    """A built-in study name or a YAML path; `real`/`test`/`graph` override the file's. The real data, a
    test set and a graph file named in the study file are read relative to the study file."""
    if str(ref) in BUILTIN_STUDIES:
        path = Path(str(resources.files("feint.studies") / "builtin" / f"{ref}.yaml"))
        base = Path.cwd()
    else:
        path = Path(ref)
        base = path.parent
        if not path.is_file():
            raise FeintError(f"{path}: study file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise FeintError(f"{path}: malformed YAML: {err}") from None
    if not isinstance(data, dict):
        raise FeintError(f"{path}: a study must be a mapping")
    if real is not None:
        data["real"], base_real = real, Path.cwd()
    else:
        base_real = base
    if "real" in data:
        data["real"] = (
            str((base_real / data["real"]).resolve())
            if not Path(data["real"]).is_absolute()
            else data["real"]
        )
    if test is not None:
        data["test"] = str(Path(test).resolve())
    elif data.get("test") and not Path(data["test"]).is_absolute():
        data["test"] = str((base / data["test"]).resolve())
    synthetic = data.get("synthetic") if isinstance(data.get("synthetic"), dict) else None
    if graph is not None:
        data["synthetic"] = {**(synthetic or {}), "graph": graph}
    elif synthetic and str(synthetic.get("graph", "")).endswith((".yaml", ".yml")):
        synthetic["graph"] = str((base / synthetic["graph"]).resolve())
    try:
        spec = StudySpec.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise FeintError(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    if not Path(spec.real).exists():
        raise FeintError(f"{spec.real}: real data folder not found (give --real PATH)")
    return spec
