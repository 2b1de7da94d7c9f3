"""`feint train`, `feint eval`, `feint predict`, `feint backbones`: classifiers on real/synthetic data.

Options are validated here (pydantic) and handed to the library as plain dataclasses; torch is imported
inside the commands so that `feint --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from feint.cli import app
from feint.cli.options import (
    SEED_MAX,
    TRACKER_DEFAULT,
    DataFormat,
    Device,
    Overwrite,
    Quiet,
    Resume,
    TrackerChoice,
    TrainClasses,
    comma_list,
    opt,
    validated,
)


class TrainOptions(BaseModel):
    """The command line's training options, checked before anything is loaded."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # --lr nan would train on nothing
    OPTION_NAMES: ClassVar[dict[str, str]] = {"warmup_epochs": "--warmup", "mirror_features": "--mirror"}

    data: list[str] = Field(min_length=1)
    out: str
    classes: list[str] | None = None
    split: str | None = None
    format: str | None = None
    val: float = Field(0.1, ge=0.0, lt=1.0)
    val_split: str | None = None
    mix: dict[str, float] = {}
    arch: str | None = None  # before `backbone`: its check needs them
    weights: str | None = None
    backbone: str
    mode: str = Field("finetune", pattern="^(finetune|frozen)$")
    epochs: int = Field(ge=1, le=100_000)
    lr: float | None = Field(None, gt=0.0, le=1.0)
    weight_decay: float = Field(ge=0.0, le=100.0)
    batch: int = Field(ge=1, le=65_536)
    size: int = Field(ge=16, le=1024)
    seed: int = Field(ge=0, le=SEED_MAX)
    warmup_epochs: float = Field(ge=0.0, le=100_000)
    patience: int | None = Field(None, ge=1, le=100_000)
    hidden: int = Field(ge=0, le=65_536)
    dropout: float = Field(ge=0.0, lt=1.0)
    mirror_features: bool = True
    init: str | None = None
    cache: str | None = None
    device: str | None = None  # None: auto (resolved by the command)

    @field_validator("backbone")
    @classmethod
    def _known_backbone(cls, value: str, info: ValidationInfo) -> str:
        """A registered backbone, unless --arch/--weights describe a new one under this name."""
        from feint.errors import FeintError
        from feint.training.backbones import get_backbone_spec

        if info.data.get("arch") or info.data.get("weights"):
            return value
        try:
            get_backbone_spec(value)
        except FeintError as err:
            raise ValueError(str(err)) from None
        return value

    @field_validator("mix", mode="before")
    @classmethod
    def _parse_mix(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        mix = {}
        for part in comma_list(value):
            source, _, weight = part.partition("=")
            try:
                mix[source.strip()] = float(weight)
            except ValueError:
                raise ValueError(
                    f"expected SOURCE=WEIGHT pairs like real=0.7,synthetic=0.3, got {part!r}"
                ) from None
        if any(w < 0 for w in mix.values()) or (mix and not sum(mix.values()) > 0):
            raise ValueError("weights must be non-negative and not all zero")
        unknown = set(mix) - {"real", "synthetic"}
        if unknown:
            raise ValueError(f"unknown source {sorted(unknown)[0]!r} (sources: real, synthetic)")
        return mix


class EvalOptions(BaseModel):
    """`feint eval`'s numbers, checked before the run is loaded."""

    model_config = ConfigDict(extra="forbid")

    bootstrap: int = Field(ge=0, le=100_000)
    seed: int = Field(ge=0, le=SEED_MAX)


@app.command("train")
def train_cmd(
    data: Annotated[
        list[Path],
        typer.Argument(
            help="Training dataset(s), any format; several are mixed "
            "(each image keeps its source: real or synthetic)."
        ),
    ],
    out: Annotated[Path, opt("-o", "--out", help="Run folder (new, or an interrupted run with --resume).")],
    classes: TrainClasses = None,
    backbone: Annotated[
        str, opt("--backbone", help="Backbone name (see `feint backbones`).")
    ] = "efficientnet_lite0",
    mode: Annotated[
        Literal["finetune", "frozen"],
        opt(
            "--mode",
            help="finetune: train backbone and head on augmented images; "
            "frozen: cached backbone features + a head (seconds).",
        ),
    ] = "finetune",
    epochs: Annotated[int, opt("--epochs", help="Epochs.")] = 10,
    lr: Annotated[
        float | None,
        opt(
            "--lr", help="Peak learning rate (default 1e-4 finetune, 1e-3 frozen head); warm-up then cosine."
        ),
    ] = None,
    batch: Annotated[int, opt("--batch", help="Batch size.")] = 32,
    size: Annotated[int, opt("--size", help="Image side in pixels (images are resized to a square).")] = 224,
    seed: Annotated[
        int, opt("--seed", help="Seed of everything: split, draws, augmentation, head init.")
    ] = 0,
    split: Annotated[
        str | None,
        opt(
            "--split",
            help="Use only this split of each dataset that has splits (default: train, "
            "for data with splits); renders without splits are used whole.",
        ),
    ] = None,
    val: Annotated[
        float,
        opt(
            "--val",
            help="Fraction of the training groups held out to pick the best "
            "epoch (0: none, the last epoch is kept).",
        ),
    ] = 0.1,
    val_split: Annotated[
        str | None,
        opt(
            "--val-split",
            help="Validate on this split of the first dataset instead (not the split trained on).",
        ),
    ] = None,
    mix: Annotated[
        str | None,
        opt(
            "--mix",
            help="Share of draws per source, e.g. real=0.7,synthetic=0.3 (default: each source counts 1).",
        ),
    ] = None,
    init: Annotated[
        Path | None,
        opt(
            "--init", help="Start from this run's weights (classes matched by name), e.g. synthetic -> real."
        ),
    ] = None,
    patience: Annotated[
        int | None, opt("--patience", help="Stop after N epochs without a better validation loss.")
    ] = None,
    hidden: Annotated[int, opt("--hidden", help="Head: 0 linear, else an MLP with this hidden width.")] = 0,
    dropout: Annotated[float, opt("--dropout", help="Head dropout.")] = 0.2,
    mirror: Annotated[
        bool,
        opt("--mirror/--no-mirror", help="Frozen mode: the head also trains on features of mirrored images."),
    ] = True,
    weight_decay: Annotated[float, opt("--weight-decay", help="AdamW weight decay.")] = 0.05,
    warmup: Annotated[float, opt("--warmup", help="Warm-up length in epochs.")] = 1.0,
    arch: Annotated[
        str | None,
        opt(
            "--arch",
            help="Add a backbone: architecture timm:<model> or torchvision:<model> (with --weights FILE).",
        ),
    ] = None,
    weights: Annotated[
        Path | None, opt("--weights", help="Add a backbone: its ImageNet weight file.")
    ] = None,
    fmt: DataFormat = None,
    cache: Annotated[
        Path | None,
        opt("--cache", help="Image/feature cache folder (default $FEINT_CACHE or ~/.cache/feint)."),
    ] = None,
    device: Device = None,
    resume: Resume = False,
    quiet: Quiet = False,
    tracker: TrackerChoice = TRACKER_DEFAULT,
) -> None:
    """Train a classifier on real, synthetic or mixed data with an ImageNet-pretrained backbone."""
    options = validated(
        TrainOptions,
        dict(
            data=[str(d) for d in data],
            out=str(out),
            classes=comma_list(classes) or None,
            split=split,
            format=fmt,
            val=val,
            val_split=val_split,
            mix=mix or {},
            backbone=backbone,
            arch=arch,
            weights=str(weights) if weights else None,
            mode=mode,
            epochs=epochs,
            lr=lr,
            weight_decay=weight_decay,
            batch=batch,
            size=size,
            seed=seed,
            warmup_epochs=warmup,
            patience=patience,
            hidden=hidden,
            dropout=dropout,
            mirror_features=mirror,
            init=str(init) if init else None,
            cache=str(cache) if cache else None,
            device=device,
        ),
    )
    from feint.outputs import Inputs, check_not_input
    from feint.tracking import open_tracker, project_name
    from feint.training.device import resolve_device
    from feint.training.run import TrainConfig, train

    options.device = resolve_device(options.device)
    check_not_input(out, Inputs.of(*data, *([init] if init else [])))
    logger = open_tracker(tracker.value, out, project_name(out))
    record = train(TrainConfig(**options.model_dump(), progress=not quiet), resume=resume, tracker=logger)
    best = record["best"]
    val_text = (
        f"; validation accuracy {best['val_accuracy']:.3f}, balanced {best['val_balanced_accuracy']:.3f}"
        if "val_accuracy" in best
        else ""
    )
    typer.echo(
        f"{out}: {record['mode']}, {record['data']['train']} training images, best epoch "
        f"{record['best_epoch']}/{record['epochs_run']}{val_text}; {record['seconds_this_session']} s"
    )
    if logger is not None and logger.summary():
        typer.echo(logger.summary())


@app.command("eval")
def eval_cmd(
    run: Annotated[
        Path,
        typer.Argument(help="Run folder written by `feint train`, or its .onnx export (ONNX Runtime, CPU)."),
    ],
    data: Annotated[Path, typer.Argument(help="Labelled test dataset, any format.")],
    split: Annotated[
        str | None, opt("--split", help="Evaluate on this split (default: test, when the data has one).")
    ] = None,
    classes: Annotated[
        str | None, opt("--classes", help="Evaluate on these classes of the data only (a,b,c).")
    ] = None,
    mapping: Annotated[
        Path | None,
        opt(
            "--map",
            help="Map model classes onto the data's names: lines "
            "'model_class,data_class' (empty: never predicted).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        opt(
            "-o",
            "--out",
            help="Report folder (default RUN/eval-<DATA>[-SPLIT], MODEL-eval-... beside an .onnx).",
        ),
    ] = None,
    bootstrap: Annotated[
        int, opt("--bootstrap", help="Bootstrap resamples (by group) for 95 % intervals.", min=0)
    ] = 1000,
    seed: Annotated[int, opt("--seed", help="Bootstrap seed.")] = 0,
    fmt: DataFormat = None,
    cache: Annotated[Path | None, opt("--cache", help="Image/feature cache folder.")] = None,
    device: Device = None,
    quiet: Quiet = False,
    overwrite: Overwrite = False,
) -> None:
    """Accuracy, balanced accuracy, per-class P/R/F1, confusion matrix, 95 % intervals, worst mistakes."""
    from feint.deploy import classifier_or_run
    from feint.evaluation import evaluate
    from feint.training.device import resolve_device

    validated(EvalOptions, dict(bootstrap=bootstrap, seed=seed))
    device = resolve_device(device)
    r = evaluate(
        classifier_or_run(run),
        data,
        split,
        mapping,
        out,
        fmt,
        bootstrap,
        seed,
        cache,
        not quiet,
        device=device,
        classes=comma_list(classes) or None,
        overwrite=overwrite,
    )
    ci = r["bootstrap_95"]
    typer.echo(
        f"{r['images']} images: accuracy {r['accuracy']:.3f} [{ci['accuracy'][0]:.3f}, "
        f"{ci['accuracy'][1]:.3f}], balanced accuracy {r['balanced_accuracy']:.3f} "
        f"[{ci['balanced_accuracy'][0]:.3f}, {ci['balanced_accuracy'][1]:.3f}], macro F1 {r['macro_f1']:.3f}"
    )
    for row in r["per_class"]:
        if row["support"]:
            typer.echo(
                f"  {row['class']:<20} precision {row['precision']:.3f}  recall {row['recall']:.3f}  "
                f"F1 {row['f1']:.3f}  ({row['support']} images)"
            )
    for name, sub in r["subsets"].items():
        typer.echo(f"  {name:<20} accuracy {sub['accuracy']:.3f} ({sub['images']} images)")
    typer.echo(f"report: {r['out']} (metrics.json, predictions.csv, confusion.png, mistakes.png)")


@app.command("predict")
def predict_cmd(
    run: Annotated[
        Path,
        typer.Argument(help="Run folder written by `feint train`, or its .onnx export (ONNX Runtime, CPU)."),
    ],
    images: Annotated[list[Path], typer.Argument(help="Image files or folders (searched recursively).")],
    out: Annotated[Path | None, opt("-o", "--out", help="CSV file (default: print to stdout).")] = None,
    top_k: Annotated[int, opt("-k", "--top-k", help="Classes per image, best first.", min=1)] = 3,
    cache: Annotated[Path | None, opt("--cache", help="Image/feature cache folder.")] = None,
    device: Device = None,
    overwrite: Annotated[bool, opt("--overwrite", help="Replace the CSV file if it exists.")] = False,
    quiet: Quiet = False,
) -> None:
    """Top-k classes and scores per image, as CSV."""
    from feint.deploy import classifier_or_run
    from feint.evaluation import predict
    from feint.outputs import Inputs, check_file_output, run_files, write_file_output
    from feint.training.device import resolve_device

    device = resolve_device(device)
    if out is not None:
        model_files = Inputs.of(files=[run]) if run.is_file() else run_files(run)
        check_file_output(out, Inputs.of(*images) + model_files, overwrite)
    table = predict(classifier_or_run(run), images, top_k, cache, progress=not quiet, device=device)
    text = table.to_csv(index=False, lineterminator="\n")
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_file_output(out, text.encode())
        typer.echo(f"{out}: {len(table)} images")


@app.command("backbones")
def backbones_cmd() -> None:
    """The backbones `feint train --backbone` knows, with their architecture and weight source."""
    from feint.training.backbones import get_backbone_spec, list_backbones

    for name in list_backbones():
        spec = get_backbone_spec(name)
        typer.echo(f"{name:<20} {spec.arch:<32} {spec.source}")
