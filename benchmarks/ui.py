"""`feint ui` on a 100,000-image render folder: how long the Datasets page takes to open, page, filter, plot
and show thumbnails.

Run on demand: `.venv/bin/python benchmarks/ui.py [--images 100000] [--folder DIR]
[-o benchmarks/results/ui.json]`.
Target: the first open (the page, then its first grid page as JSON, as the browser asks for them) under 2 s,
and paging without stalls.

The folder is made cheaply: `--render` images of the built-in marine graph are really rendered, then
annotations.json and params.parquet are repeated to `--images` entries whose files are hard links of the
rendered images (distinct paths, so every thumbnail is made anew; the labels are as large as a real render's:
one box and one RLE mask per image, every render parameter). `--folder` keeps it for later runs (reused when
it already holds that many images); by default it lives in a temporary folder removed at the end.

Measured against a real server (uvicorn in a thread, requests over HTTP with httpx):
- loading the folder as the CLI does, `load_dataset` + `Dataset.frame()`, for comparison (the app does not);
- the first open: GET /dataset (the index is built: annotations.json and params.parquet read into pandas) and
  then GET /api/dataset/images page 1, and their sum;
- 20 further pages (pages 2..21), median and max; a filtered query (a class and a parameter range); the
  histogram of a parameter per class over all images (first, with matplotlib's import, and again);
- the thumbnails of one grid page (60) fetched six at a time as a browser does, cold (made) and warm (cached);
- where Playwright and Chromium are installed, the first open again in a real browser (labels touched, so the
  index is rebuilt): from navigation to the first page of images drawn, and to every thumbnail loaded
  (Playwright's "networkidle": 500 ms without a request, included).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from feint.datasets import load_dataset
from feint.graph import load_graph
from feint.render.dataset import render_dataset
from feint.render.job import RenderJob
from feint.run_folder import versions

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def build_folder(folder: Path, images: int, rendered: int, size: int, work: Path) -> dict[str, Any]:
    """A feint render folder of `images` images made from `rendered` real renders (see the module doc)."""
    if (folder / "annotations.json").is_file():
        have = len(json.loads((folder / "annotations.json").read_bytes())["images"])
        if have == images:
            return {"reused": True}
        raise SystemExit(f"{folder}: holds {have} images, not {images}; give an empty or new --folder")
    started = time.perf_counter()
    small = work / "rendered"
    render_dataset(
        RenderJob(load_graph("marine"), rendered, small, size=size, seed=0, workers=2), progress=False
    )
    render_seconds = time.perf_counter() - started
    coco = json.loads((small / "annotations.json").read_bytes())
    params = pd.read_parquet(small / "params.parquet")
    (folder / "images").mkdir(parents=True)
    shutil.copyfile(small / "dataset.json", folder / "dataset.json")
    by_image: dict[int, list[dict[str, Any]]] = {}
    for ann in coco["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    entries, annotations = [], []
    for k in range(images):
        source = coco["images"][k % len(coco["images"])]
        name = f"images/{k:06d}.jpg"
        _link(small / source["file_name"], folder / name)
        entries.append({**source, "id": k + 1, "file_name": name, "index": k})
        for ann in by_image.get(source["id"], []):
            annotations.append({**ann, "id": len(annotations) + 1, "image_id": k + 1})
    (folder / "annotations.json").write_text(
        json.dumps({**coco, "images": entries, "annotations": annotations})
    )
    rows = params.iloc[[k % len(params) for k in range(images)]].reset_index(drop=True)
    rows["index"] = range(images)
    rows["file_name"] = [e["file_name"] for e in entries]
    rows.to_parquet(folder / "params.parquet")
    return {
        "reused": False,
        "rendered_images": rendered,
        "rendered_size_px": size,
        "render_seconds": round(render_seconds, 1),
        "build_seconds": round(time.perf_counter() - started, 1),
        "annotations_json_megabytes": round((folder / "annotations.json").stat().st_size / 1e6, 1),
    }


def _link(source: Path, target: Path) -> None:
    """A hard link (a path of its own: its thumbnail is made anew), or a copy where links are not allowed."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def serve(folder: Path, work: Path) -> tuple[str, Any, float]:
    """The app over `folder`'s parent in a uvicorn thread; (base URL, server, seconds to start)."""
    import uvicorn

    started = time.perf_counter()
    from feint.ui.app import create_app

    app = create_app([folder.parent], workdir=work / "ui-work")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server, time.perf_counter() - started


def get(client: httpx.Client, url: str, **params: Any) -> httpx.Response:
    response = client.get(url, params=params)
    response.raise_for_status()
    return response


def measure(client: httpx.Client, folder: Path, pages: int) -> dict[str, Any]:
    path = str(folder)
    page_s, _ = timed(lambda: get(client, "/dataset", path=path))
    grid_s, first = timed(lambda: get(client, "/api/dataset/images", path=path, page=1).json())
    print(f"first open: page {page_s:.3f} s + first grid page {grid_s:.3f} s", flush=True)
    further = [
        timed(lambda p=p: get(client, "/api/dataset/images", path=path, page=p))[0]
        for p in range(2, pages + 2)
    ]
    far = [
        timed(lambda p=p: get(client, "/api/dataset/images", path=path, page=p))[0]
        for p in range(first["pages"], 0, -max(1, first["pages"] // pages))[:pages]
    ]
    filters = {"f.class": "tug", "f.ship.roll": "-1..1"}
    filter_s, kept = timed(lambda: get(client, "/api/dataset/images", path=path, **filters).json())
    hist_first, _ = timed(lambda: get(client, "/api/dataset/histogram", path=path, field="ship.roll"))
    hist_again, _ = timed(lambda: get(client, "/api/dataset/histogram", path=path, field="sea.waves"))
    cold = thumbnails(client, first["items"])
    warm = thumbnails(client, first["items"])
    print(f"pages {statistics.median(further):.4f} s median; thumbnails cold {cold:.2f} s, warm {warm:.2f} s")
    return {
        "images": first["total"],
        "first_open": {
            "page_seconds": round(page_s, 3),
            "first_grid_page_seconds": round(grid_s, 3),
            "total_seconds": round(page_s + grid_s, 3),
            "target_seconds": 2.0,
            "met": page_s + grid_s < 2.0,
        },
        "further_pages": {
            "pages": len(further),
            "per_page": 60,
            "median_seconds": round(statistics.median(further), 4),
            "max_seconds": round(max(further), 4),
        },
        "far_pages": {
            "pages": len(far),
            "note": "jumps across the whole dataset, last page first",
            "median_seconds": round(statistics.median(far), 4),
            "max_seconds": round(max(far), 4),
        },
        "filtered_query": {"filters": filters, "matched": kept["matched"], "seconds": round(filter_s, 4)},
        "histogram": {
            "field": "ship.roll then sea.waves, per class, all images",
            "first_seconds": round(hist_first, 3),
            "again_seconds": round(hist_again, 3),
        },
        "thumbnails_one_page": {
            "thumbnails": len(first["items"]),
            "size_px": 192,
            "parallel_requests": 6,
            "cold_seconds": round(cold, 3),
            "warm_seconds": round(warm, 3),
        },
    }


def thumbnails(client: httpx.Client, items: list[dict[str, Any]]) -> float:
    """Seconds to fetch one page's thumbnails six at a time (a browser's connections per host)."""
    with ThreadPoolExecutor(6) as pool:
        started = time.perf_counter()
        list(pool.map(lambda item: get(client, "/thumb", path=item["file"], size=192), items))
        return time.perf_counter() - started


def browser_first_open(base: str, folder: Path) -> dict[str, Any] | None:
    """Navigation to the first page of images drawn, in headless Chromium, the index rebuilt first."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    os.utime(folder / "annotations.json")  # new labels as far as the cache can tell: the index is rebuilt
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        started = time.perf_counter()
        tab.goto(f"{base}/dataset?path={folder}")
        tab.wait_for_selector("#grid figure")
        shown = time.perf_counter() - started
        tab.wait_for_load_state("networkidle")
        settled = time.perf_counter() - started
        browser.close()
    print(f"browser: grid drawn {shown:.2f} s, thumbnails loaded {settled:.2f} s", flush=True)
    return {"grid_drawn_seconds": round(shown, 3), "thumbnails_loaded_seconds": round(settled, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=100_000, help="images in the folder")
    parser.add_argument("--render", type=int, default=24, help="images really rendered (then repeated)")
    parser.add_argument("--size", type=int, default=128, help="size of the rendered images (px)")
    parser.add_argument("--pages", type=int, default=20, help="further grid pages timed")
    parser.add_argument("--folder", type=Path, default=None, help="build (or reuse) the folder here")
    parser.add_argument("-o", "--out", default="benchmarks/results/ui.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="feint-bench-ui-"))
    folder = args.folder or work / "renders-100k"
    try:
        load_before = load()
        made = build_folder(folder, args.images, args.render, args.size, work)
        print(f"folder: {folder} {made}", flush=True)
        slow_s, dataset = timed(lambda: load_dataset(folder))
        frame_s, _ = timed(dataset.frame)
        del dataset
        print(f"load_dataset {slow_s:.2f} s + frame() {frame_s:.2f} s", flush=True)
        base, server, startup = serve(folder, work)
        try:
            with httpx.Client(base_url=base, timeout=120) as client:
                results = measure(client, folder, args.pages)
            results["browser_first_open"] = browser_first_open(base, folder)
        finally:
            server.should_exit = True
        import fastapi
        import matplotlib
        import pyarrow

        results = {
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "processor": platform.processor() or platform.machine(),
                "load_average_before": load_before,
                "load_average_after": load(),
                "peak_memory_megabytes_with_load_dataset": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                ),
            },
            "versions": {
                **versions(),
                "pandas": pd.__version__,
                "pyarrow": pyarrow.__version__,
                "fastapi": fastapi.__version__,
                "matplotlib": matplotlib.__version__,
            },
            "folder": {"images": args.images, **made},
            "server_start_seconds": round(startup, 3),
            "load_dataset_then_frame_seconds": {"load_dataset": round(slow_s, 2), "frame": round(frame_s, 2)},
            **results,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {args.out}", flush=True)


if __name__ == "__main__":
    main()
