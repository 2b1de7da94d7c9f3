"""`feint data export --to fiftyone`: any dataset feint reads, and runs' predictions on it, in FiftyOne.

Two halves, so that the first is tested without a database:
- `build_samples(dataset, predictions)` makes `fo.Sample`s in memory (FiftyOne builds samples and labels
  without MongoDB);
- `write_fiftyone(...)` checks the database, writes the samples into a new FiftyOne dataset and runs
  FiftyOne's own evaluation of every run on it (`evaluate_classifications` / `evaluate_detections`), so
  that the App shows each run's mistakes and a confusion-matrix cell as a view.
`export_fiftyone` does both for the command: load the data, predict with the runs, build, write.

Sample fields: `filepath`; `metadata` (width, height); `ground_truth` (`fo.Classification`, the image's
class); `boxes` (`fo.Detections`, FiftyOne's relative [x, y, w, h], with each box's instance mask cropped to
the box where the data has RLE masks; only for data with boxes); `split` (also a sample tag), `source`
(real | synthetic), `group`; every metadata key (manifest column, render parameter) as a field of its own,
numbers kept numbers, its name made a valid field name (`sky.clouds` -> `sky_clouds`; the dataset's
`info["feint"]["fields"]` maps them back). A run adds `pred_<run>` (a classifier's `fo.Classification` with
confidence and logits, the log of its probabilities; a detector's `fo.Detections` with scores) and the
evaluation `eval_<run>`.

FiftyOne is an optional extra imported inside the functions: `import fiftyone` takes seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from feint.datasets.core import Dataset, Record
from feint.errors import FeintError

if TYPE_CHECKING:
    from feint.detection.types import Detections

INSTALL = "pip install 'feint[fiftyone]'"
GT_CLASS = "ground_truth"
GT_BOXES = "boxes"
RECORD_FIELDS = (GT_CLASS, GT_BOXES, "split", "source", "group")
# FiftyOne's own sample fields: a metadata key of one of these names is given another.
FIFTYONE_FIELDS = ("id", "filepath", "tags", "metadata", "media_type", "created_at", "last_modified_at")
# Sample fields FiftyOne's detection evaluation adds beside the eval key itself.
DETECTION_EVAL_SUFFIXES = ("_tp", "_fp", "_fn")
DB_TIMEOUT_S = 5.0  # how long a database may take to answer before the export says it has none
TINY = float(np.finfo(np.float32).tiny)  # log(0) would be -inf: a probability of 0 is logged as this


@dataclass
class RunPredictions:
    """One run's predictions on a dataset's records, in record order: `probs` (N, classes) of a
    classifier, or one `Detections` per record of a detector (boxes xyxy in the image's pixels)."""

    path: Path
    kind: str  # "classifier" | "detector"
    classes: list[str]
    key: str  # names the prediction field `pred_<key>` and the evaluation `eval_<key>`
    probs: np.ndarray | None = None
    found: list[Detections] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("classifier", "detector"):
            raise ValueError(f"run kind must be classifier or detector, got {self.kind!r}")
        if (self.probs is None) == (self.found is None):
            raise ValueError("give a classifier's probs or a detector's found, not both or neither")

    @property
    def field(self) -> str:
        return f"pred_{self.key}"

    @property
    def eval_key(self) -> str:
        return f"eval_{self.key}"

    def __len__(self) -> int:
        return len(self.probs) if self.probs is not None else len(self.found or [])


# --- FiftyOne, its database -------------------------------------------------------------------------


def require_fiftyone() -> Any:
    """The fiftyone module, or a one-line error saying how to install it."""
    try:
        import fiftyone
    except ImportError as err:
        raise FeintError(f"--to fiftyone needs FiftyOne, which is not installed ({err}): {INSTALL}") from None
    return fiftyone


def database_problem(timeout: float | None = None) -> str | None:
    """Why FiftyOne cannot reach a MongoDB here, in words; None when it can.

    With FIFTYONE_DATABASE_URI set this pings that server (giving up after `timeout` seconds); otherwise
    FiftyOne starts the mongod of its fiftyone-db package, which is asked for its version: a mongod that
    cannot run on this system (a missing OpenSSL 1.1, a download that never happened offline) fails that
    in milliseconds, where FiftyOne itself would wait a minute for it."""
    fo = require_fiftyone()
    timeout = DB_TIMEOUT_S if timeout is None else timeout
    uri = fo.config.database_uri
    if uri:
        import pymongo
        from pymongo.errors import PyMongoError

        client: Any = None
        try:
            ms = max(1, int(timeout * 1000))
            client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms)
            client.admin.command("ping")
        except (PyMongoError, ValueError) as err:  # ValueError: a malformed URI
            return f"the MongoDB at FIFTYONE_DATABASE_URI does not answer ({_first_line(err)})"
        finally:
            if client is not None:
                client.close()
        return None
    from fiftyone.core.service import DatabaseService, ServiceExecutableNotFound

    try:
        mongod = DatabaseService.find_mongod()
    except ServiceExecutableNotFound:
        return "the fiftyone-db package has no mongod for this system (it is downloaded when installed)"
    except PermissionError as err:
        return f"FiftyOne's mongod cannot be run ({err})"
    try:
        done = subprocess.run([mongod, "--version"], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"FiftyOne's mongod ({mongod}) did not answer within {timeout:g} s"
    except OSError as err:
        return f"FiftyOne's mongod ({mongod}) does not start: {err.strerror or err}"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        said = _first_line(lines[-1].removeprefix(f"{mongod}: ") if lines else f"exit {done.returncode}")
        return f"FiftyOne's own mongod ({mongod}) does not run on this system: {said}"
    return None


def _first_line(text: Any) -> str:
    """An exception or a program's output as one short line."""
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= 240 else line[:237] + "..."


def _no_database(problem: str) -> FeintError:
    return FeintError(
        f"FiftyOne has no database: {problem}; run a MongoDB server and point FIFTYONE_DATABASE_URI at it "
        "(e.g. FIFTYONE_DATABASE_URI=mongodb://localhost:27017)"
    )


def connect(fo: Any) -> None:
    """Connect FiftyOne to its database now, or a one-line error naming FIFTYONE_DATABASE_URI."""
    problem = database_problem()
    if problem is not None:
        raise _no_database(problem)
    try:
        fo.list_datasets()
    except Exception as err:  # noqa: BLE001 - FiftyOne raises its own, pymongo's and service timeouts
        raise _no_database(f"{type(err).__name__}: {_first_line(err)}") from None


# --- names ------------------------------------------------------------------------------------------


def default_name(data: str | Path, split: str | None) -> str:
    """The data's folder name (a label file's folder for COCO .json / data.yaml / manifest.csv given as a
    file), with the split: `ships-dev`, `tos-split-val`."""
    path = Path(os.path.abspath(data))
    base = path.parent.name if path.is_file() else path.name
    return f"{base}-{split}" if split else base


def _identifier(text: str) -> str:
    """`text` as a valid FiftyOne field name: letters, digits and _ only, not starting with _ or a digit."""
    name = re.sub(r"[^0-9A-Za-z_]", "_", text).lstrip("_")
    return name if name and not name[0].isdigit() else f"f_{name}"


def run_keys(paths: Sequence[Path]) -> list[str]:
    """A distinct key per run, from its folder name: runs/frozen -> frozen; a second `frozen` -> frozen_2."""
    keys: list[str] = []
    for p in paths:
        base = _identifier(Path(os.path.abspath(p)).name).lower()
        key, n = base, 1
        while key in keys:
            n += 1
            key = f"{base}_{n}"
        keys.append(key)
    return keys


def reserved_fields(predictions: Sequence[RunPredictions]) -> set[str]:
    """Every sample field the export writes or FiftyOne's evaluation adds, besides the metadata."""
    taken = set(FIFTYONE_FIELDS) | set(RECORD_FIELDS)
    for p in predictions:
        taken |= {p.field, p.eval_key}
        if p.kind == "detector":
            taken |= {p.eval_key + s for s in DETECTION_EVAL_SUFFIXES}
    return taken


def metadata_fields(dataset: Dataset, taken: set[str]) -> dict[str, str]:
    """Each metadata key (first-seen order) -> its sample field: a valid name, none of `taken`, all
    distinct (`a.b` and `a_b` both present: `a_b` and `a_b_2`)."""
    names: dict[str, str] = {}
    used = set(taken)
    for r in dataset.records:
        for key in r.meta:
            if key in names:
                continue
            base = _identifier(key)
            if base in taken:
                base = f"meta_{base}"
            name, n = base, 1
            while name in used:
                n += 1
                name = f"{base}_{n}"
            names[key] = name
            used.add(name)
    return names


# --- values -----------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    return "other"


def column_values(values: Sequence[Any]) -> list[Any]:
    """One metadata key's values over all records, of one type, as FiftyOne fields need: numbers stay
    numbers (ints and floats together become floats; True/False among numbers 1/0), NaN becomes None,
    lists of numbers stay lists; anything mixed with text becomes text."""
    clean = [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values]
    kinds = {_kind(v) for v in clean if v is not None}
    if not kinds:
        return clean
    if kinds == {"bool"}:
        return [None if v is None else bool(v) for v in clean]
    if kinds <= {"bool", "int"}:
        return [None if v is None else int(v) for v in clean]
    if kinds <= {"bool", "int", "float"}:
        return [None if v is None else float(v) for v in clean]
    if kinds == {"list"} and all(_kind(x) in ("bool", "int", "float") for v in clean if v for x in v):
        cast = float if any(_kind(x) == "float" for v in clean if v for x in v) else int
        return [None if v is None else [cast(x) for x in v] for v in clean]
    return [None if v is None else v if isinstance(v, str) else json.dumps(v, default=str) for v in clean]


def with_sizes(dataset: Dataset) -> Dataset:
    """The dataset with every record's width and height (read from image headers where the labels do not
    say): relative boxes and the App's metadata need them."""
    from feint.datasets.images import header_sizes

    missing = [i for i, r in enumerate(dataset.records) if r.width is None or r.height is None]
    if not missing:
        return dataset
    sizes = dict(zip(missing, header_sizes([dataset.records[i].image for i in missing]), strict=True))
    return dataset.with_records(
        r.with_(width=sizes[i][0], height=sizes[i][1]) if i in sizes else r
        for i, r in enumerate(dataset.records)
    )


def relative_box(box: Sequence[float], width: int, height: int) -> list[float]:
    """xyxy pixels -> FiftyOne's [x, y, w, h] as fractions of the image's width and height."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return [x0 / width, y0 / height, (x1 - x0) / width, (y1 - y0) / height]


def mask_crop(rle: dict[str, Any], box: Sequence[float]) -> np.ndarray | None:
    """A COCO RLE mask (of the whole image) cut to its box, as FiftyOne's instance masks are (FiftyOne's
    own COCO importer cuts rows round(y0):round(y1), columns round(x0):round(x1)); None for an empty cut."""
    from pycocotools import mask as mask_utils

    full = mask_utils.decode({"size": list(rle["size"]), "counts": str(rle["counts"]).encode("ascii")})
    x0, y0, x1, y1 = (float(v) for v in box)
    crop = full[int(round(y0)) : int(round(y1)), int(round(x0)) : int(round(x1))].astype(bool)
    return crop if crop.size else None


# --- samples ----------------------------------------------------------------------------------------


def build_samples(dataset: Dataset, predictions: Sequence[RunPredictions] = ()) -> list[Any]:
    """One `fo.Sample` per record (in order), with the fields the module docstring lists; in memory,
    no database needed."""
    fo = require_fiftyone()
    dataset = with_sizes(dataset)
    for p in predictions:
        if len(p) != len(dataset):
            raise ValueError(f"{p.path}: {len(p)} predictions for {len(dataset)} images")
    fields = metadata_fields(dataset, reserved_fields(predictions))
    columns = {
        name: column_values([r.meta.get(key) for r in dataset.records]) for key, name in fields.items()
    }
    has_boxes = dataset.has_boxes
    samples = []
    for i, r in enumerate(dataset.records):
        assert r.width is not None and r.height is not None  # with_sizes filled them
        values: dict[str, Any] = {"source": r.source, "group": r.group}
        if r.primary_class is not None:
            values[GT_CLASS] = fo.Classification(label=r.primary_class)
        if has_boxes:  # an image without objects has an empty list: its detections count as false
            values[GT_BOXES] = _boxes(fo, r)
        if r.split is not None:
            values["split"] = r.split
        for name, column in columns.items():
            if column[i] is not None:
                values[name] = column[i]
        for p in predictions:
            values[p.field] = _prediction(fo, p, i, r)
        samples.append(
            fo.Sample(
                filepath=str(r.image),
                tags=[r.split] if r.split is not None else [],
                metadata=fo.ImageMetadata(width=r.width, height=r.height),
                **values,
            )
        )
    return samples


def _boxes(fo: Any, r: Record) -> Any:
    assert r.width is not None and r.height is not None
    detections = []
    for j, (box, label) in enumerate(zip(r.boxes, r.box_labels, strict=True)):
        rle = r.masks[j] if r.masks is not None else None
        mask = mask_crop(rle, box) if rle is not None else None
        extra = {"mask": mask} if mask is not None else {}
        detections.append(
            fo.Detection(label=label, bounding_box=relative_box(box, r.width, r.height), **extra)
        )
    return fo.Detections(detections=detections)


def _prediction(fo: Any, p: RunPredictions, i: int, r: Record) -> Any:
    if p.probs is not None:
        probs = np.asarray(p.probs[i], dtype=np.float64)
        k = int(np.argmax(probs))
        return fo.Classification(
            label=p.classes[k], confidence=float(probs[k]), logits=np.log(np.maximum(probs, TINY))
        )
    assert p.found is not None and r.width is not None and r.height is not None
    d = p.found[i]
    return fo.Detections(
        detections=[
            fo.Detection(
                label=p.classes[int(label)],
                bounding_box=relative_box(box, r.width, r.height),
                confidence=float(score),
            )
            for box, score, label in zip(d.boxes, d.scores, d.labels, strict=True)
        ]
    )


# --- runs -------------------------------------------------------------------------------------------


def run_kind(path: Path) -> str:
    """'classifier' (a `feint train` run) or 'detector' (a `feint detect train` run), from config.json."""
    if not path.is_dir():
        raise FeintError(f"--run {path}: no such run folder")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise FeintError(
            f"--run {path}: not a feint run (no config.json); give a folder `feint train` or "
            "`feint detect train` wrote"
        )
    try:
        config = json.loads(config_file.read_text())
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise FeintError(f"{config_file}: not a feint run configuration (damaged JSON)")
    if "model" in config:  # DetectConfig has a model (fasterrcnn, a YOLO file), TrainConfig a mode
        return "detector"
    if "mode" in config:
        return "classifier"
    raise FeintError(f"{config_file}: neither a `feint train` nor a `feint detect train` run")


@dataclass
class LoadedRun:
    path: Path
    kind: str
    key: str
    run: Any = field(repr=False)  # feint.evaluation.runs.Run or feint.detection.runs.DetectorRun

    @property
    def classes(self) -> list[str]:
        return list(self.run.classes)


def load_runs(paths: Sequence[Path], dataset: Dataset) -> list[LoadedRun]:
    """Every run loaded (a clear error for a missing, unfinished or foreign one) and checked to have
    something to be measured against in `dataset`."""
    loaded = []
    for path, key in zip(paths, run_keys(paths), strict=True):
        kind = run_kind(path)
        if kind == "classifier":
            from feint.evaluation.runs import load_run

            if all(r.primary_class is None for r in dataset.records):
                raise FeintError(f"--run {path}: a classifier, but no image of the data has a class")
            run: Any = load_run(path)
        else:
            from feint.detection.runs import load_detector

            if not dataset.has_boxes:
                raise FeintError(f"--run {path}: a detector, but the data has no boxes to measure it on")
            run = load_detector(path)
        loaded.append(LoadedRun(path, kind, key, run))
    return loaded


def predict_run(
    loaded: LoadedRun,
    dataset: Dataset,
    device: str = "cpu",
    cache: str | Path | None = None,
    progress: bool = False,
) -> RunPredictions:
    """The run's predictions on every record of `dataset` (whose records have their sizes)."""
    paths = [r.image for r in dataset.records]
    sizes = [(r.width, r.height) for r in dataset.records]
    if loaded.kind == "classifier":
        probs = loaded.run.predict_proba(paths, sizes, cache=cache, progress=progress, device=device)
        return RunPredictions(loaded.path, "classifier", loaded.classes, loaded.key, probs=probs)
    found = loaded.run.detect(paths, sizes, conf=0.0, device=device, progress=progress)
    return RunPredictions(loaded.path, "detector", loaded.classes, loaded.key, found=list(found))


# --- the database -----------------------------------------------------------------------------------


def _replaced(fo: Any, name: str, overwrite: bool) -> str | None:
    """The existing dataset `name` will replace (None: none), or an error when it may not: without
    `overwrite`, or one feint did not make (no feint card in its info)."""
    import fiftyone.core.utils as fou

    try:
        slug = fou.to_slug(name)
    except ValueError as err:
        raise FeintError(f"--name {name!r}: not a FiftyOne dataset name ({_first_line(err)})") from None
    clash = [n for n in fo.list_datasets() if n == name or fou.to_slug(n) == slug]
    if not clash:
        return None
    other = clash[0]
    same = f"a dataset {other!r}" + ("" if other == name else f" (the same URL name {slug!r} as {name!r})")
    if not overwrite:
        raise FeintError(
            f"FiftyOne already has {same}; pass --overwrite to replace it, or pick another --name"
        )
    if "feint" not in (fo.load_dataset(other).info or {}):
        raise FeintError(
            f"FiftyOne's {same} was not made by feint (no feint card in its info), so --overwrite "
            "leaves it; pick another --name"
        )
    return str(other)


def write_fiftyone(
    dataset: Dataset,
    name: str,
    predictions: Sequence[RunPredictions] = (),
    overwrite: bool = False,
    card: dict[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Write the samples into the FiftyOne dataset `name` (persistent) and evaluate every run on it.

    Built under a temporary name first, deleted on any error, so that an earlier dataset of that name is
    replaced only by a whole new one. Returns the names, counts and each run's headline score."""
    fo = require_fiftyone()
    connect(fo)
    replace = _replaced(fo, name, overwrite)
    samples = build_samples(dataset, predictions)
    fields = metadata_fields(dataset, reserved_fields(predictions))
    # not persistent: gone if this process dies; a leftover of an earlier process of this id is replaced
    made = fo.Dataset(f"{name}-feint-tmp-{os.getpid()}", overwrite=True)
    try:
        made.add_samples(samples, progress=progress)
        made.default_classes = list(dataset.classes)
        scores = [_evaluate(made, p, progress) for p in predictions]
        made.info = {
            "feint": {
                **(card or {}),
                "fields": fields,
                "runs": [
                    {"run": str(p.path), "kind": p.kind, "classes": p.classes, "field": p.field, **s}
                    for p, s in zip(predictions, scores, strict=True)
                ],
            }
        }
        made.save()
        if replace is not None:
            fo.delete_dataset(replace)
        made.name = name
        made.persistent = True
    except BaseException:
        made.delete()
        raise
    return {
        "name": name,
        "images": len(made),
        "classes": list(dataset.classes),
        "boxes": sum(len(r.boxes) for r in dataset.records),
        "fields": fields,
        "runs": [
            {"run": str(p.path), "kind": p.kind, "field": p.field, **s}
            for p, s in zip(predictions, scores, strict=True)
        ],
        "replaced": replace,
    }


def _evaluate(made: Any, p: RunPredictions, progress: bool = False) -> dict[str, Any]:
    """FiftyOne's evaluation of one run, stored under its eval key; the headline number of it."""
    from fiftyone import ViewField as F

    if p.kind == "classifier":
        view = made.exists(GT_CLASS)  # images without a class are not scored, as in `feint eval`
        results = view.evaluate_classifications(
            p.field, gt_field=GT_CLASS, eval_key=p.eval_key, progress=progress
        )
        return {
            "eval_key": p.eval_key,
            "images": len(view),
            "accuracy": float(results.metrics()["accuracy"]),
            "mistakes": int(len(view.match(~F(p.eval_key)))),
        }
    results = made.evaluate_detections(
        p.field, gt_field=GT_BOXES, eval_key=p.eval_key, compute_mAP=True, progress=progress
    )
    return {"eval_key": p.eval_key, "images": len(made), "mAP": float(results.mAP())}


def export_fiftyone(
    data: str | Path,
    name: str | None = None,
    runs: Sequence[str | Path] = (),
    split: str | None = None,
    fmt: str | None = None,
    overwrite: bool = False,
    device: str = "cpu",
    cache: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """`feint data export DATA --to fiftyone`: everything checked (FiftyOne, the data, the runs, the
    database, the name) before any run predicts; then predict, build, write and evaluate."""
    import time

    import feint
    from feint.datasets import load_dataset

    fo = require_fiftyone()
    dataset = load_dataset(Path(data), fmt, split)
    name = name or default_name(data, split)
    run_paths = [Path(r) for r in runs]
    loaded = load_runs(run_paths, dataset)
    connect(fo)
    _replaced(fo, name, overwrite)  # refused now rather than after the predictions
    dataset = with_sizes(dataset)
    predictions = [predict_run(r, dataset, device, cache, progress) for r in loaded]
    card = {
        "command": "data export",
        "data": str(data),
        "format": dataset.format,
        "split": split,
        "version": feint.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return write_fiftyone(dataset, name, predictions, overwrite, card, progress)
