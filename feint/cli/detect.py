"""`feint detect train|predict|eval`: object detectors on feint datasets (any format with boxes).

Options are validated here (pydantic) and handed to the library as a plain dataclass; torch is imported
inside the commands so that `feint --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

import typer
from pydantic import BaseModel, ConfigDict, Field

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

detect_app = typer.Typer(
    help="Train object detectors, draw their boxes, measure COCO mAP.", no_args_is_help=True
)
app.add_typer(detect_app, name="detect")


class DetectOptions(BaseModel):
    """The command line's training options, checked before anything is loaded."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    OPTION_NAMES: ClassVar[dict[str, str]] = {"warmup_epochs": "--warmup"}

    data: str
    out: str
    model: str
    backbone: str
    anchors: str = Field(pattern="^(fixed|fit)$")
    finest_stride: Literal[8, 16]
    init: str | None = None
    augment: str = Field(pattern="^(flip|jitter|rotate)$")
    classes: list[str] | None = None
    split: str | None = None
    val: str | None = None
    val_split: str | None = None
    format: str | None = None
    epochs: int = Field(ge=1, le=100_000)
    batch: int = Field(ge=1, le=65_536)
    size: int = Field(ge=32, le=2048)
    optimizer: str = Field(pattern="^(sgd|adamw)$")
    lr: float | None = Field(None, gt=0.0, le=1.0)
    weight_decay: float = Field(ge=0.0, le=100.0)
    warmup_epochs: float = Field(ge=0.0, le=100_000)
    seed: int = Field(ge=0, le=SEED_MAX)
    workers: int = Field(ge=0, le=1024)
    device: str | None = None  # None: auto (resolved by the command)


class DetectRunOptions(BaseModel):
    """`feint detect predict|eval`'s numbers, checked before a model is loaded (--conf nan keeps nothing)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    conf: float = Field(0.25, ge=0.0, le=1.0)
    grid: int = Field(16, ge=1, le=10_000)
    batch: int = Field(ge=1, le=65_536)
    workers: int = Field(ge=0, le=1024)


@detect_app.command("train")
def train_cmd(
    data: Annotated[
        Path,
        typer.Argument(
            help="Dataset with boxes: a feint render, COCO json, YOLO data.yaml "
            "or a `feint data split` folder (its train split is used)."
        ),
    ],
    out: Annotated[Path, opt("-o", "--out", help="Run folder (new, or an interrupted run with --resume).")],
    model: Annotated[
        str,
        opt(
            "--model",
            help="fasterrcnn (torchvision, on an offline ImageNet backbone), "
            "or a YOLO model yaml/.pt with the extra feint\\[yolo] "
            "(AGPL-3.0).",
        ),
    ] = "fasterrcnn",
    backbone: Annotated[
        str, opt("--backbone", help="Backbone of fasterrcnn (see `feint backbones`).")
    ] = "mobilenet_v2",
    anchors: Annotated[
        Literal["fixed", "fit"],
        opt(
            "--anchors",
            help="fasterrcnn's anchor boxes: fixed (sides size/40 to size, aspect ratios 0.5, 1, 2) or "
            "fit (sides and aspect ratios fitted to the training boxes).",
        ),
    ] = "fixed",
    finest_stride: Annotated[
        int,
        opt(
            "--finest-stride",
            help="fasterrcnn's finest feature-pyramid stride: 8 (a level for small objects), or 16 "
            "(a sixth faster to train, as feint trained before).",
        ),
    ] = 8,
    init: Annotated[
        Path | None,
        opt(
            "--init",
            help="Start from this fasterrcnn run's weights (e.g. trained on renders, continued on "
            "photos); its backbone, pyramid and anchors are kept.",
        ),
    ] = None,
    augment: Annotated[
        Literal["flip", "jitter", "rotate"],
        opt(
            "--augment",
            help="Training images: flip (left-right); jitter (flips, zoom out and in, colour); rotate "
            "(jitter and quarter turns: objects lying any way, such as bottles; not ships).",
        ),
    ] = "flip",
    size: Annotated[int, opt("--size", help="Longer image side in pixels (aspect kept).")] = 320,
    batch: Annotated[int, opt("--batch", help="Images per step.")] = 4,
    epochs: Annotated[int, opt("--epochs", help="Epochs.")] = 20,
    workers: Annotated[int, opt("--workers", help="Image-decoding processes (0: in the main process).")] = 0,
    lr: Annotated[
        float | None,
        opt("--lr", help="Peak learning rate (default 0.01 SGD, 1e-4 AdamW); warm-up then cosine."),
    ] = None,
    optimizer: Annotated[
        Literal["sgd", "adamw"], opt("--optimizer", help="sgd (momentum 0.9) or adamw.")
    ] = "sgd",
    weight_decay: Annotated[float, opt("--weight-decay", help="Weight decay.")] = 1e-4,
    warmup: Annotated[float, opt("--warmup", help="Warm-up length in epochs.")] = 1.0,
    seed: Annotated[
        int, opt("--seed", help="Seed of everything: head init, shuffling, flips, sampling.")
    ] = 0,
    classes: TrainClasses = None,
    split: Annotated[
        str | None,
        opt(
            "--split",
            help="Train on this split (default: train, when the data has splits; data with "
            "splits but no train split needs --split).",
        ),
    ] = None,
    val: Annotated[
        Path | None,
        opt(
            "--val",
            help="Validation dataset (default: the data's val split, when "
            "it has one): mAP per epoch, best epoch. Never images trained on.",
        ),
    ] = None,
    val_split: Annotated[
        str | None, opt("--val-split", help="Validate on this split (of --val, or of the data).")
    ] = None,
    fmt: DataFormat = None,
    device: Device = None,
    resume: Resume = False,
    quiet: Quiet = False,
    tracker: TrackerChoice = TRACKER_DEFAULT,
) -> None:
    """Train a detector: Faster R-CNN on an ImageNet backbone (default) or Ultralytics YOLO."""
    options = validated(
        DetectOptions,
        dict(
            data=str(data),
            out=str(out),
            model=model,
            backbone=backbone,
            anchors=anchors,
            finest_stride=finest_stride,
            init=str(init) if init else None,
            augment=augment,
            classes=comma_list(classes) or None,
            split=split,
            val=str(val) if val else None,
            val_split=val_split,
            format=fmt,
            epochs=epochs,
            batch=batch,
            size=size,
            optimizer=optimizer,
            lr=lr,
            weight_decay=weight_decay,
            warmup_epochs=warmup,
            seed=seed,
            workers=workers,
            device=device,
        ),
    )
    from feint.detection import DetectConfig, train_detector
    from feint.outputs import Inputs, check_not_input
    from feint.tracking import open_tracker, project_name
    from feint.training.device import resolve_device

    options.device = resolve_device(options.device)
    check_not_input(out, Inputs.of(data, *([val] if val else []), *([init] if init else [])))
    logger = open_tracker(tracker.value, out, project_name(out))
    record = train_detector(
        DetectConfig(**options.model_dump(), progress=not quiet), resume=resume, tracker=logger
    )
    best = record["best"]
    val_text = (
        f"; validation mAP@0.5 {best['val_map50']:.3f}, mAP@0.5:0.95 {best['val_map']:.3f}"
        if best.get("val_map") is not None
        else ""
    )
    used = record["data"]
    typer.echo(
        f"{out}: {record['model']}, {used['train']} training images ({used['train_boxes']} boxes), "
        f"best epoch {record['best_epoch']}/{record['epochs_run']}{val_text}; "
        f"{record['seconds_this_session']} s"
    )
    if logger is not None and logger.summary():
        typer.echo(logger.summary())


@detect_app.command("predict")
def predict_cmd(
    run: Annotated[
        Path,
        typer.Argument(
            help="Run folder written by `feint detect train`, or its .onnx export (ONNX Runtime, CPU)."
        ),
    ],
    images: Annotated[list[Path], typer.Argument(help="Image files or folders (searched recursively).")],
    out: Annotated[
        Path | None,
        opt(
            "-o",
            "--out",
            help="Output folder (default RUN/detect-<first input>; beside an .onnx model, "
            "MODEL-detect-<first input>).",
        ),
    ] = None,
    conf: Annotated[float, opt("--conf", help="Keep boxes scoring at least this (0 to 1).")] = 0.25,
    grid: Annotated[int, opt("--grid", help="Images in grid.png.", min=1)] = 16,
    batch: Annotated[int, opt("--batch", help="Images per forward pass.", min=1)] = 4,
    workers: Annotated[int, opt("--workers", help="Image-decoding processes.", min=0)] = 0,
    device: Device = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Boxes and scores drawn on every image, a grid PNG, and the boxes as COCO results JSON."""
    from feint.deploy import detector_or_run
    from feint.detection import predict_detections
    from feint.training.device import resolve_device

    validated(DetectRunOptions, dict(conf=conf, grid=grid, batch=batch, workers=workers))
    device = resolve_device(device)
    model = detector_or_run(run)
    r = predict_detections(
        model, images, out, conf, grid, batch, workers, device, progress=not quiet, overwrite=overwrite
    )
    per_class = ", ".join(f"{c} {n}" for c, n in r["per_class"].items() if n)
    typer.echo(
        f"{r['out']}: {r['images']} images, {r['boxes']} boxes with score >= {conf}"
        f"{f' ({per_class})' if per_class else ''}; images/, grid.png, detections.json, images.json"
    )


@detect_app.command("eval")
def eval_cmd(
    run: Annotated[Path, typer.Argument(help="Run folder written by `feint detect train`.")],
    data: Annotated[Path, typer.Argument(help="Labelled dataset with boxes, any format.")],
    split: Annotated[
        str | None, opt("--split", help="Evaluate on this split (default: test, when the data has one).")
    ] = None,
    classes: Annotated[
        str | None, opt("--classes", help="Evaluate on these classes of the data only (a,b,c).")
    ] = None,
    class_agnostic: Annotated[
        bool, opt("--class-agnostic", help="Every class counts as one, 'object' (a ship, whatever its type).")
    ] = False,
    out: Annotated[
        Path | None, opt("-o", "--out", help="Report folder (default RUN/detect-eval-<DATA>[-SPLIT]).")
    ] = None,
    fmt: DataFormat = None,
    batch: Annotated[int, opt("--batch", help="Images per forward pass.", min=1)] = 4,
    workers: Annotated[int, opt("--workers", help="Image-decoding processes.", min=0)] = 0,
    device: Device = None,
    quiet: Quiet = False,
    overwrite: Overwrite = False,
) -> None:
    """COCO mAP@0.5 and mAP@0.5:0.95, AP per class, precision-recall curves (pycocotools)."""
    from feint.detection import evaluate_detector
    from feint.training.device import resolve_device

    validated(DetectRunOptions, dict(batch=batch, workers=workers))
    device = resolve_device(device)
    keep = comma_list(classes) or None
    r = evaluate_detector(
        run, data, split, out, fmt, class_agnostic, keep, batch, workers, device, not quiet, overwrite
    )
    typer.echo(
        f"{r['images']} images, {r['gt_boxes']} boxes: mAP@0.5 {r['map50']:.3f}, "
        f"mAP@0.5:0.95 {r['map']:.3f}{' (class-agnostic)' if class_agnostic else ''}"
    )
    for row in r["per_class"]:
        if row["ap"] is not None:
            typer.echo(
                f"  {row['class']:<20} AP@0.5 {row['ap50']:.3f}  AP@0.5:0.95 {row['ap']:.3f}  "
                f"({row['gt_boxes']} boxes, {row['detections']} detections)"
            )
    typer.echo(f"report: {r['out']} (metrics.json, detections.json, ground_truth.json, pr_curves.png)")
