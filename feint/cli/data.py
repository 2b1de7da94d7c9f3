"""`feint data ...`: dataset import, conversion, splitting and inspection.

Every command reads any format (detected, or --format) and every command that writes takes -o DST and
writes a whole dataset folder all-or-nothing, images referenced (links/relative paths) unless --copy.
Library imports stay inside the commands: `feint data ...` must start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from feint.cli import app
from feint.cli.options import Device, Quiet

if TYPE_CHECKING:
    from feint.datasets import Dataset

data_app = typer.Typer(
    help="Convert, split, subsample, select, merge and inspect datasets.", no_args_is_help=True
)
app.add_typer(data_app, name="data")


def _opt(*names: str, help: str, **kw: Any) -> Any:
    """typer.Option, shorter: keeps the option table below readable."""
    return typer.Option(*names, help=help, **kw)


Src = Annotated[Path, typer.Argument(help="Dataset folder (format detected), or a .json/.csv/.yaml file.")]
Out = Annotated[
    Path, _opt("-o", "--out", help="Output folder: new or empty (an earlier output with --overwrite).")
]
Overwrite = Annotated[
    bool,
    _opt("--overwrite", help="Replace an earlier output of feint's there (files you added stay)."),
]
Format = Annotated[str | None, _opt("--format", help="Input: feint, coco, yolo, manifest, imagefolder.")]
To = Annotated[
    str | None,
    _opt(
        "--to",
        help="Output format: coco, yolo, imagefolder, manifest (default: the input's; coco for renders).",
    ),
]
Split = Annotated[str | None, _opt("--split", help="Read only this split of the input.")]
Copy = Annotated[bool, _opt("--copy", help="Copy the images (default: link or reference them).")]
Check = Annotated[bool, _opt("--check", help="Decode every image first (finds truncated/corrupt files).")]
Seed = Annotated[int, _opt("--seed", help="The same seed gives the same result.")]
By = Annotated[str, _opt("--by", help="Keep together: group (default), another column, or none.")]
Stratify = Annotated[str, _opt("--stratify", help="Balance per class (default), another column, or none.")]
Ratios = Annotated[str, _opt("--ratios", help="Split fractions, summing to 1.")]
Names = Annotated[str | None, _opt("--names", help="Split names (default train,val,test).")]
Fraction = Annotated[float | None, _opt("--fraction", help="Keep this fraction of every class.")]
PerClass = Annotated[int | None, _opt("--per-class", help="Keep about N images per class (whole groups).")]
InSplit = Annotated[str | None, _opt("--in-split", help="Thin only this split; keep the other splits whole.")]
Classes = Annotated[str | None, _opt("--classes", help="Keep these classes (a,b,c), in this order.")]
Mapping = Annotated[
    Path | None,
    _opt(
        "--map",
        help="Class mapping file: YAML 'from: to' or CSV 'from,to' lines; an empty target drops the class.",
    ),
]
Where = Annotated[
    list[str] | None,
    _opt("--where", help="Keep images where COLUMN OP VALUE, e.g. low_detail=0 (repeatable; all must hold)."),
]
Inputs = Annotated[
    list[Path] | None,
    typer.Argument(help="Datasets to merge; each keeps its source (real, unless a feint render)."),
]
Synthetic = Annotated[list[Path] | None, _opt("--synthetic", help="A synthetic dataset (repeatable).")]
FillSplit = Annotated[
    str | None,
    _opt("--fill-split", help="Give this split to images without one (e.g. synthetic images joining train)."),
]
JsonOut = Annotated[Path | None, _opt("--json", help="Also write the numbers to this JSON file.")]


def _load(src: Path, fmt: str | None, split: str | None) -> Dataset:
    from feint.datasets import load_dataset

    return load_dataset(src, fmt, split)


def _read(src: Path, fmt: str | None, split: str | None) -> tuple[Dataset, Dataset]:
    """The whole dataset (every image of it is protected from -o, whichever split is used) and the part
    the command works on (`split`, if given)."""
    whole = _load(src, fmt, None)
    return whole, whole.split(split) if split else whole


def _check_out(out: Path, inputs: list[Path], sources: list[Dataset], overwrite: bool) -> None:
    """Refuse a bad -o as soon as the inputs are known: before any work, and any warning about it."""
    from feint.datasets.output import check_dataset_output, dataset_inputs

    check_dataset_output(out, dataset_inputs(inputs, sources), overwrite)


def _write(
    dataset: Dataset,
    out: Path,
    to: str | None,
    command: str,
    inputs: list[Path],
    params: dict,
    copy: bool,
    check: bool,
    overwrite: bool,
    sources: list[Dataset],
) -> None:
    from feint.datasets.formats import default_output_format
    from feint.datasets.output import write_dataset

    to = to or default_output_format(dataset.format)
    dataset, notes = _writable(dataset, to)
    notes += write_dataset(dataset, out, to, command, inputs, params, copy, check, overwrite, sources)
    parts = [
        f"{len(dataset)} images",
        f"{len(dataset.classes)} classes",
        f"{sum(len(r.boxes) for r in dataset.records)} boxes",
    ]
    if dataset.splits:
        parts.append(", ".join(f"{s} {sum(r.split == s for r in dataset.records)}" for s in dataset.splits))
    source_names = sorted({r.source for r in dataset.records})
    if len(source_names) > 1:
        parts.append(", ".join(f"{s} {sum(r.source == s for r in dataset.records)}" for s in source_names))
    typer.echo(f"{out} ({to}): " + "; ".join(parts))
    for note in notes:
        typer.echo(f"  note: {note}")


def _writable(dataset: Dataset, to: str) -> tuple[Dataset, list[str]]:
    """The records the output format can hold, so that the counts printed (and on the card) are what
    reading the output back gives: an ImageFolder holds images with a class, a split YOLO dataset those
    with a split."""
    from feint.errors import FeintError

    if to == "imagefolder":
        kept = dataset.filter(lambda r: r.primary_class is not None)
        why = "without a class left out (an ImageFolder holds classified images only)"
        if not len(kept) and len(dataset):
            raise FeintError(
                "--to imagefolder: no image has a class (an ImageFolder holds classified images "
                "only); use --to coco or manifest"
            )
    elif to == "yolo" and not dataset.classes:
        raise FeintError(
            "--to yolo: no class left in the dataset (data.yaml names at least one); use --to "
            "coco or manifest"
        )
    elif to == "yolo" and dataset.splits:
        kept = dataset.filter(lambda r: r.split is not None)
        why = "without a split left out (YOLO lists images by split; `merge --fill-split` gives them one)"
    else:
        return dataset, []
    left = len(dataset) - len(kept)
    return (kept, [f"{left} images {why}"]) if left else (dataset, [])


def _csv(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


@data_app.command("convert")
def convert(
    src: Src,
    out: Out,
    to: Annotated[str, _opt("--to", help="Output format: coco, yolo, imagefolder, manifest.")],
    fmt: Format = None,
    split: Split = None,
    copy: Copy = False,
    check: Check = False,
    overwrite: Overwrite = False,
) -> None:
    """Convert a dataset to another format (COCO ids from 1 <-> YOLO ids from 0; empty images kept)."""
    whole, dataset = _read(src, fmt, split)
    _check_out(out, [src], [whole], overwrite)
    params = {"format": dataset.format, "split": split}
    _write(dataset, out, to, "convert", [src], params, copy, check, overwrite, [whole])


@data_app.command("split")
def split_cmd(
    src: Src,
    out: Out,
    ratios: Ratios = "0.8,0.1,0.1",
    seed: Seed = 0,
    by: By = "group",
    stratify: Stratify = "class",
    names: Names = None,
    to: To = None,
    fmt: Format = None,
    copy: Copy = False,
    check: Check = False,
    overwrite: Overwrite = False,
) -> None:
    """Split into train/val/test: group-disjoint, class-stratified, deterministic for a seed."""
    from feint.datasets.split import leaking_groups, parse_ratios, split_dataset

    dataset = _load(src, fmt, None)
    _check_out(out, [src], [dataset], overwrite)
    result = split_dataset(dataset, parse_ratios(ratios), seed, by, stratify, _csv(names) or None)
    leaks = leaking_groups(result, by) if by not in ("none", "file", "image") else []
    if leaks:  # impossible by construction: a bug if it ever fires
        raise RuntimeError(f"groups in two splits: {leaks[:5]}")
    params = {"format": dataset.format, "ratios": ratios, "seed": seed, "by": by, "stratify": stratify}
    _write(result, out, to, "split", [src], params, copy, check, overwrite, [dataset])


@data_app.command("subsample")
def subsample_cmd(
    src: Src,
    out: Out,
    fraction: Fraction = None,
    per_class: PerClass = None,
    seed: Seed = 0,
    in_split: InSplit = None,
    by: By = "group",
    stratify: Stratify = "class",
    split: Split = None,
    to: To = None,
    fmt: Format = None,
    copy: Copy = False,
    check: Check = False,
    overwrite: Overwrite = False,
) -> None:
    """Nested subsample: for one seed, the 10 % sample lies inside the 20 % sample."""
    from feint.datasets.subsample import subsample

    whole, dataset = _read(src, fmt, split)
    _check_out(out, [src], [whole], overwrite)
    result = subsample(dataset, seed, fraction, per_class, by, stratify, in_split)
    params = {
        "format": dataset.format,
        "fraction": fraction,
        "per_class": per_class,
        "seed": seed,
        "in_split": in_split,
        "split": split,
        "by": by,
        "stratify": stratify,
    }
    _write(result, out, to, "subsample", [src], params, copy, check, overwrite, [whole])


@data_app.command("select")
def select_cmd(
    src: Src,
    out: Out,
    classes: Classes = None,
    mapping: Mapping = None,
    where: Where = None,
    split: Split = None,
    to: To = None,
    fmt: Format = None,
    copy: Copy = False,
    check: Check = False,
    overwrite: Overwrite = False,
) -> None:
    """Keep classes, rename/merge classes with a mapping file, filter by manifest columns or metadata."""
    from feint.datasets.select import filter_where, keep_classes, map_classes, read_mapping

    entries = read_mapping(mapping) if mapping else None
    whole, dataset = _read(src, fmt, split)
    _check_out(out, [src, mapping] if mapping else [src], [whole], overwrite)
    result = filter_where(dataset, where or [])
    if entries is not None and mapping is not None:
        result = map_classes(result, entries, mapping)
    if classes is not None:
        result = keep_classes(result, _csv(classes))
    params = {
        "format": dataset.format,
        "classes": classes,
        "map": str(mapping) if mapping else None,
        "where": where or [],
        "split": split,
    }
    inputs = [src, mapping] if mapping else [src]
    _write(result, out, to, "select", inputs, params, copy, check, overwrite, [whole])
    typer.echo(f"  kept {len(result)} of {len(dataset)} images")


@data_app.command("merge")
def merge_cmd(
    out: Out,
    srcs: Inputs = None,
    synthetic: Synthetic = None,
    fill_split: FillSplit = None,
    to: To = None,
    fmt: Format = None,
    copy: Copy = False,
    check: Check = False,
    overwrite: Overwrite = False,
) -> None:
    """Merge datasets (real + synthetic) into one; every record keeps its source."""
    from feint.datasets.merge import merge
    from feint.errors import FeintError

    real, syn = list(srcs or []), list(synthetic or [])
    if len(real) + len(syn) < 2:
        raise FeintError("merge: give at least two datasets (positional and/or --synthetic)")
    datasets = [_load(p, fmt, None) for p in real + syn]
    _check_out(out, real + syn, datasets, overwrite)
    result = merge(datasets, [None] * len(real) + ["synthetic"] * len(syn), fill_split)
    params = {"inputs": [str(p) for p in real], "synthetic": [str(p) for p in syn], "fill_split": fill_split}
    _write(
        result,
        out,
        to or ("coco" if result.has_boxes else "manifest"),
        "merge",
        real + syn,
        params,
        copy,
        check,
        overwrite,
        datasets,
    )


@data_app.command("stats")
def stats_cmd(
    src: Src,
    split: Split = None,
    fmt: Format = None,
    check: Check = False,
    json_out: JsonOut = None,
    overwrite: Annotated[bool, _opt("--overwrite", help="Replace the --json file if it exists.")] = False,
) -> None:
    """Counts per class/split/source, image sizes, boxes per image, box sizes."""
    from feint.datasets.stats import dataset_stats, format_stats
    from feint.datasets.validate import check_dataset, check_decodes
    from feint.outputs import Inputs, check_file_output

    whole, dataset = _read(src, fmt, split)
    if json_out:
        check_file_output(json_out, Inputs.of_datasets([src], [whole]), overwrite)
    check_dataset(dataset)
    if check:
        check_decodes(dataset)
    stats = dataset_stats(dataset)
    typer.echo(format_stats(stats, f"{src} ({dataset.format})"))
    if check:
        typer.echo(f"  all {len(dataset)} images decode")
    if json_out:
        from feint.io import write_json_atomic

        write_json_atomic(json_out, stats)
        typer.echo(f"  numbers: {json_out}")


@data_app.command("preview")
def preview_cmd(
    src: Src,
    out: Annotated[Path, _opt("-o", "--out", help="PNG file to write.")],
    n: Annotated[int, _opt("-n", min=1, max=400, help="Number of images.")] = 24,
    columns: Annotated[int, _opt("--columns", min=1, help="Images per row.")] = 6,
    seed: Seed = 0,
    split: Split = None,
    fmt: Format = None,
    overwrite: Annotated[bool, _opt("--overwrite", help="Replace the PNG file if it exists.")] = False,
) -> None:
    """A grid PNG of a seeded pick of images (every class shown), boxes and classes drawn."""
    from feint.datasets.preview import preview_png
    from feint.outputs import Inputs, check_file_output, write_file_output

    whole, dataset = _read(src, fmt, split)
    check_file_output(out, Inputs.of_datasets([src], [whole]), overwrite)
    write_file_output(out, preview_png(dataset, n, columns, seed))
    typer.echo(f"{out}: {min(n, len(dataset))} of {len(dataset)} images")


@data_app.command("export")
def export_cmd(
    src: Src,
    to: Annotated[str, _opt("--to", help="Where to: fiftyone (a FiftyOne dataset, to browse in its App).")],
    name: Annotated[
        str | None, _opt("--name", help="FiftyOne dataset name (default: the data's folder name[-split]).")
    ] = None,
    runs: Annotated[
        list[Path] | None,
        _opt(
            "--run",
            help="A `feint train` or `feint detect train` run: its predictions, evaluated by FiftyOne "
            "(repeatable).",
        ),
    ] = None,
    split: Split = None,
    fmt: Format = None,
    device: Device = None,
    quiet: Quiet = False,
    overwrite: Annotated[
        bool, _opt("--overwrite", help="Replace a FiftyOne dataset of that name that feint made.")
    ] = False,
) -> None:
    """Export to FiftyOne: labels, boxes, masks, splits, sources, metadata, render parameters, predictions."""
    from feint.errors import FeintError

    if to != "fiftyone":
        raise FeintError(
            f"--to {to!r}: `feint data export` writes fiftyone (optional extra: pip install "
            "'feint[fiftyone]'); for files use `feint data convert --to coco|yolo|imagefolder|manifest`"
        )
    from feint.integrations.fiftyone import export_fiftyone
    from feint.training.device import resolve_device

    torch_device = resolve_device(device) if runs else "cpu"  # only a run's predictions use torch
    result = export_fiftyone(src, name, runs or [], split, fmt, overwrite, torch_device, progress=not quiet)
    counts = f"{result['images']} images; {len(result['classes'])} classes; {result['boxes']} boxes"
    typer.echo(f"FiftyOne dataset {result['name']!r}: {counts}; {len(result['fields'])} metadata fields")
    if result["replaced"]:
        typer.echo(f"  replaced the earlier dataset {result['replaced']!r}")
    for r in result["runs"]:
        if r["kind"] == "classifier":
            score = f"accuracy {r['accuracy']:.3f}, {r['mistakes']} mistakes of {r['images']}"
        else:
            score = f"mAP {r['mAP']:.3f} over {r['images']} images"
        typer.echo(f"  {r['run']}: predictions {r['field']!r}, evaluation {r['eval_key']!r}: {score}")
    typer.echo(f"open it: fiftyone app launch {result['name']}")
    typer.echo(
        f'  or in Python: import fiftyone as fo; fo.launch_app(fo.load_dataset("{result["name"]}")).wait()'
    )
