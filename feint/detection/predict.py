"""`predict_detections(run, images)`: boxes for image files, drawn, gridded and written as COCO results.

Outputs in the folder `out` (default RUN/detect-<first input>): images/ (every image with its boxes and
scores drawn), grid.png (the first `grid` of them side by side), detections.json (COCO results: image_id,
category_id, bbox [x, y, w, h] in the image's pixels, score) and images.json (the COCO images and
categories those ids refer to, so `COCO("images.json").loadRes("detections.json")` reads them back).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from feint.detection import runs
from feint.detection.evaluate import coco_results
from feint.detection.plots import draw_detections, image_grid
from feint.detection.types import Detections, Sizes

# Drawn copies have their longer side within these bounds: small renders are enlarged so that labels can
# be read, photos shrunk so that a folder of them stays small.
DRAWN_SIDE = (512, 1024)


class DetectorModel(Protocol):
    """What prediction needs of a detector: a run's (`feint.detection.runs.DetectorRun`) or an exported one
    (`feint.deploy.OnnxDetector`, whose `path` is its file)."""

    path: Path

    @property
    def classes(self) -> list[str]: ...

    def detect(
        self,
        paths: Sequence[Path],
        sizes: Sizes | None = None,
        conf: float = 0.0,
        batch: int = 4,
        workers: int = 0,
        device: str = "cpu",
        progress: bool = False,
    ) -> list[Detections]: ...


def predict_detections(
    run_path: str | Path | DetectorModel,
    inputs: Sequence[str | Path],
    out: str | Path | None = None,
    conf: float = 0.25,
    grid: int = 16,
    batch: int = 4,
    workers: int = 0,
    device: str = "cpu",
    progress: bool = False,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Detect, draw and write (into `out`, default RUN/detect-<first input>, or MODEL-detect-<first input>
    beside an exported model file; never over an input); returns counts and where the files are.

    `run_path` is a run folder, or a detector already opened (an exported one: `feint.deploy`)."""
    from feint.evaluation.predict import list_images
    from feint.outputs import Inputs, check_folder_output, folder_output, run_files, write_output_card

    run: DetectorModel = runs.load_detector(run_path) if isinstance(run_path, str | Path) else run_path
    paths = list_images(inputs)
    model_file = run.path.is_file()  # an exported model, not a run folder
    if out:
        out = Path(out)
    elif model_file:
        out = run.path.with_name(f"{run.path.stem}-detect-{Path(inputs[0]).name}")
    else:
        out = run.path / f"detect-{Path(inputs[0]).name}"
    protected = Inputs.of(*inputs, files=paths) + (
        Inputs.of(files=[run.path]) if model_file else run_files(run.path)
    )
    check_folder_output(out, protected, overwrite)
    found = run.detect(paths, conf=conf, batch=batch, workers=workers, device=device, progress=progress)
    with folder_output(out, protected, overwrite) as tmp:
        drawn_paths = _write_detections(run, paths, found, tmp, grid)
        write_output_card(
            tmp, "detect predict", {"run": str(run.path), "inputs": [str(i) for i in inputs], "conf": conf}
        )
    per_class = {c: sum(int((d.labels == k).sum()) for d in found) for k, c in enumerate(run.classes)}
    return {
        "out": str(out),
        "images": len(paths),
        "boxes": sum(len(d.labels) for d in found),
        "conf": conf,
        "per_class": per_class,
        "drawn": [str(out / p.relative_to(tmp)) for p in drawn_paths],
    }


def _write_detections(
    run: DetectorModel, paths: Sequence[Path], found: Sequence[Detections], out: Path, grid: int
) -> list[Path]:
    """images/ (each photo with its boxes drawn), grid.png, detections.json and images.json in `out`."""
    from PIL import Image

    from feint.datasets.images import unique_names
    from feint.io import write_json_atomic

    names = unique_names(paths)
    drawn_paths: list[Path] = []
    thumbs: list[Image.Image] = []
    entries: list[dict[str, Any]] = []
    for k, (path, name, d) in enumerate(zip(paths, names, found, strict=True)):
        with Image.open(path) as img:
            entries.append({"id": k + 1, "file_name": str(path), "width": img.width, "height": img.height})
            scale = min(max(1.0, DRAWN_SIDE[0] / max(img.size)), DRAWN_SIDE[1] / max(img.size))
            sized = img.convert("RGB").resize((round(img.width * scale), round(img.height * scale)))
        drawn = draw_detections(sized, d.boxes * scale, d.labels.tolist(), d.scores.tolist(), run.classes)
        target = out / "images" / (Path(name).stem + ".jpg")
        target.parent.mkdir(parents=True, exist_ok=True)
        drawn.save(target, quality=92, subsampling=0)  # full-resolution colour keeps thin lines sharp
        drawn_paths.append(target)
        if len(thumbs) < grid:
            thumbs.append(drawn)
    image_grid(thumbs, out / "grid.png")
    results = coco_results(found)
    write_json_atomic(out / "detections.json", results, indent=None)
    write_json_atomic(
        out / "images.json",
        {"images": entries, "categories": [{"id": k + 1, "name": c} for k, c in enumerate(run.classes)]},
    )
    return drawn_paths
