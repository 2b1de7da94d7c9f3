"""Rendering datasets with Blender: labels match pixels, determinism, resume, bad input."""

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from feint.errors import FeintError
from feint.graph import load_graph
from feint.render.dataset import render_dataset
from feint.render.job import RenderJob

blender = pytest.mark.blender  # the tests that render


@pytest.fixture(scope="module")
def dataset20(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("r") / "ds"
    render_dataset(RenderJob(load_graph("marine"), 20, out, size=96, seed=1, workers=2), progress=False)
    return out


@blender
def test_twenty_images_with_valid_coco(dataset20):
    coco = COCO(str(dataset20 / "annotations.json"))
    assert sorted(c["id"] for c in coco.dataset["categories"]) == list(range(1, 11))
    assert len(coco.getImgIds()) == 20
    for img_id in coco.getImgIds():
        info = coco.imgs[img_id]
        with Image.open(dataset20 / info["file_name"]) as im:
            assert im.size == (info["width"], info["height"]) and max(im.size) == 96
        anns = coco.imgToAnns[img_id]
        assert anns, "every image has its ship labelled"
        for a in anns:
            m = mask_utils.decode(a["segmentation"])
            ys, xs = np.nonzero(m)
            x, y, w, h = a["bbox"]
            assert w > 0 and h > 0
            assert (xs.min(), ys.min(), xs.max() + 1 - x, ys.max() + 1 - y) == (x, y, w, h)
            assert a["area"] == m.sum() >= 1


@blender
def test_params_card_and_preview(dataset20):
    params = pd.read_parquet(dataset20 / "params.parquet")
    assert len(params) == 20 and {"class", "camera.distance_m", "sky.sun_elevation", "seed"} <= set(
        params.columns
    )
    card = json.loads((dataset20 / "dataset.json").read_text())
    assert card["images"] == 20 and card["seed"] == 1 and card["versions"]["blender"] == "5.0.1"
    assert sum(card["per_class"].values()) == 20
    assert Image.open(dataset20 / "preview.png").size[0] > 0


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "images").iterdir())} | {
        "annotations.json": (folder / "annotations.json").read_bytes(),
        "params.parquet": (folder / "params.parquet").read_bytes(),
    }


@blender
def test_same_seed_same_bytes_with_one_and_two_workers(tmp_path, dataset20):
    one = tmp_path / "one"
    # Recycled after every 7 images (3 Blender processes in turn): fresh workers give the same bytes.
    job = RenderJob(load_graph("marine"), 20, one, size=96, seed=1, workers=1, recycle_every=7)
    render_dataset(job, progress=False)
    assert _files(one) == _files(dataset20)


@blender
def test_kill_then_resume_equals_uninterrupted(tmp_path, dataset20):
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "feint.cli",
        "render",
        "marine",
        "-n",
        "20",
        "--size",
        "96",
        "--seed",
        "1",
        "-o",
        str(out),
        "--workers",
        "1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "records").glob("*.json"))) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((out / "records").glob("*.json")))
    assert 3 <= done < 20
    result = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert _files(out) == _files(dataset20)


def test_output_folder_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("keep me")
    with pytest.raises(FeintError, match="output path is a file"):
        render_dataset(RenderJob(load_graph("marine"), 1, target, size=64), progress=False)
    assert target.read_text() == "keep me"


def test_existing_output_is_not_overwritten_without_resume(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(FeintError, match="not empty"):
        render_dataset(RenderJob(load_graph("marine"), 1, out, size=64), progress=False)
    assert (out / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    "graph_text, expected",
    [
        ("extends: marine\nsea: [\n", "malformed YAML"),
        ("extends: marine\nclasses:\n  trawler: {weight: 1}\n", "unknown class"),
        ("extends: marine\ncamera:\n  distance: -5\n", "below the minimum"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, graph_text, expected):
    graph = tmp_path / "g.yaml"
    graph.write_text(graph_text)
    result = subprocess.run(
        [sys.executable, "-m", "feint.cli", "render", str(graph), "-n", "1", "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


@blender
def test_class_from_user_model_files(tmp_path):
    """A class can point at a folder of the user's own models; they render and get labelled."""
    models = tmp_path / "models"
    models.mkdir()
    verts = [(x, z, y) for x in (-20, 20) for y in (-4, 4) for z in (-3, 6)]  # OBJ is y-up
    faces = [(1, 2, 4, 3), (5, 7, 8, 6), (1, 5, 6, 2), (3, 4, 8, 7), (1, 3, 7, 5), (2, 6, 8, 4)]
    (models / "box.obj").write_text(
        "".join(f"v {x} {y} {z}\n" for x, y, z in verts)
        + "".join("f " + " ".join(map(str, f)) + "\n" for f in faces)
    )
    graph = tmp_path / "g.yaml"
    graph.write_text(
        "extends: marine\nclasses:\n"
        + "".join(
            f"  {c}: {{weight: 0}}\n"
            for c in (
                "aircraft_carrier",
                "bulkers",
                "car_carrier",
                "container_ship",
                "cruise",
                "ddg",
                "recreational",
                "sailboat",
                "submarine",
            )
        )
        + "  tug: {models: models, length: 40}\n"
    )
    out = tmp_path / "ds"
    render_dataset(RenderJob(load_graph(graph), 3, out, size=64, seed=0), progress=False)
    coco = COCO(str(out / "annotations.json"))
    assert [c["name"] for c in coco.dataset["categories"]] == ["tug"]
    assert len(coco.getAnnIds()) == 3
    params = pd.read_parquet(out / "params.parquet")
    assert params["asset.file"].str.endswith("box.obj").all()


@pytest.mark.parametrize(
    "box, max_stretch, expected",
    [
        ((10, 50, 110, 60), 2.0, (10, 37, 110, 73)),  # long low hull: grown in height, centred
        ((10, 50, 110, 60), 100.0, (10, 50, 110, 60)),  # within the limit: unchanged
        ((100, 0, 110, 100), 2.0, (69, 0, 141, 100)),  # tall mast: grown in width
        ((10, 95, 190, 100), 1.0, (10, 0, 190, 100)),  # cannot grow past the frame: clipped, shifted in
    ],
)
def test_crop_stretch_is_limited(box, max_stretch, expected):
    from feint.render.post import limit_stretch

    grown = limit_stretch(box, (100, 200), 1.44, max_stretch)
    assert grown == expected
    x0, y0, x1, y1 = grown
    assert 0 <= x0 < x1 <= 200 and 0 <= y0 < y1 <= 100


@blender
def test_resume_refuses_a_folder_rendered_with_other_pixels(tmp_path, dataset20, monkeypatch):
    import shutil

    from feint.render import dataset as dataset_module

    out = tmp_path / "ds"
    shutil.copytree(dataset20, out)
    spec = json.loads((out / "render.json").read_text())
    assert spec["pixels"] == dataset_module.PIXELS_VERSION
    job = RenderJob(load_graph("marine"), 20, out, size=96, seed=1, resume=True)
    render_dataset(job, progress=False)  # the same version resumes
    monkeypatch.setattr(dataset_module, "PIXELS_VERSION", dataset_module.PIXELS_VERSION + 1)
    with pytest.raises(FeintError, match="other pixels"):
        render_dataset(job, progress=False)
    monkeypatch.undo()
    del spec["pixels"]  # a folder from before the version was recorded: version 1, whose re-draws differ
    (out / "render.json").write_text(json.dumps(spec))
    with pytest.raises(FeintError, match=r"other pixels \(version 1,"):
        render_dataset(job, progress=False)
    assert len(list((out / "images").glob("*.jpg"))) == 20  # nothing lost


@blender
def test_resume_refuses_a_folder_rendered_with_another_version_of_a_model(tmp_path, dataset20, monkeypatch):
    import shutil

    from feint.assets import ships

    out = tmp_path / "ds"
    shutil.copytree(dataset20, out)
    spec = json.loads((out / "render.json").read_text())
    newer = {name: v for name, v in ships.ship_asset_versions().items() if v != 1}
    assert newer and spec["models"] == newer  # the models past version 1 are recorded
    job = RenderJob(load_graph("marine"), 20, out, size=96, seed=1, resume=True)
    tug = ships.get_ship_builder("tug")
    monkeypatch.setitem(ships._REGISTRY, "tug", replace(tug, version=tug.version + 1))
    with pytest.raises(FeintError, match="different models"):
        render_dataset(job, progress=False)
    assert len(list((out / "images").glob("*.jpg"))) == 20  # nothing lost


def test_render_caches_are_keyed_by_the_pixel_version(monkeypatch):
    from feint.render import job as job_module
    from feint.studies.data import render_key

    merged = {"extends": "marine", "sky": {"clouds": 0}}
    key = render_key(merged, 0, 96)
    assert render_key(merged, 0, 96) == key and render_key(merged, 1, 96) != key
    monkeypatch.setattr(job_module, "PIXELS_VERSION", job_module.PIXELS_VERSION + 1)
    assert render_key(merged, 0, 96) != key


def test_a_changed_ship_model_renders_its_class_again_alone(monkeypatch, tmp_path):
    """Bumping one class's model version moves that class's study cache folder and no other's."""
    from feint.assets import ships
    from feint.graph.loader import load_graph_dict
    from feint.studies import data as study_data

    folders: dict[str, str] = {}

    def fake_render(job, progress=True):  # records which folder each class would render into
        folders[next(iter(job.graph.classes))] = job.out.name

    monkeypatch.setattr("feint.render.dataset.render_dataset", fake_render)
    merged, _ = load_graph_dict("marine")

    def keys() -> dict[str, str]:
        folders.clear()
        for name in ("tug", "ddg"):
            study_data.render_class(merged, name, 1, 48, 0, tmp_path, progress=False)
        return dict(folders)

    before = keys()
    tug = ships.get_ship_builder("tug")
    monkeypatch.setitem(ships._REGISTRY, "tug", replace(tug, version=tug.version + 1))
    after = keys()
    assert after["ddg"] == before["ddg"] and after["tug"] != before["tug"]


# Stopping a render: Ctrl-C and SIGTERM, a failed start, images that all fail. `feint render` runs in its
# own session and is signalled through its process group, as a terminal's Ctrl-C reaches the workers too.
SMALL = ["marine", "-n", "16", "--size", "48", "--seed", "3", "--workers", "2"]


@pytest.fixture(scope="module")
def dataset16(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("r") / "ds16"
    render_dataset(RenderJob(load_graph("marine"), 16, out, size=48, seed=3, workers=2), progress=False)
    return out


def _feint(*args: object) -> list[str]:
    return [sys.executable, "-m", "feint.cli", *map(str, args)]


def _start(out: Path, *args: object) -> subprocess.Popen:
    return subprocess.Popen(
        _feint("render", *(args or SMALL), "-o", out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for(ready, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, "the render ended before it could be signalled"
        assert time.monotonic() < deadline, "the render never got there"
        time.sleep(0.02)


def _records(out: Path) -> list[Path]:
    return sorted((out / "records").glob("*.json"))


def _messages(stderr: str) -> list[str]:
    """stderr without the progress bar (tqdm redraws its line with carriage returns)."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("render:")]


@blender
def test_ctrl_c_stops_at_once_keeps_finished_images_and_resumes_to_the_same_bytes(tmp_path, dataset16):
    out = tmp_path / "stopped"
    proc = _start(out)
    _wait_for(lambda: len(_records(out)) >= 2, proc)
    os.killpg(proc.pid, signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=60)  # stderr closes once the workers are gone too
    stopped_in = time.monotonic() - sent
    assert proc.returncode == 130 and stopped_in < 2.0, (stopped_in, err)
    assert "Traceback" not in err
    [line] = _messages(err)
    done = _records(out)
    assert 2 <= len(done) < 16 and line.startswith(f"feint: interrupted: {len(done)} of 16 images done")
    for path in done:  # each finished image whole (the same bytes as uninterrupted) with its record
        record = json.loads(path.read_text())
        if not record["failed"]:
            name = record["file_name"]
            assert (out / name).read_bytes() == (dataset16 / name).read_bytes()
    again = shlex.split(line.split("finish with: ", 1)[1])
    assert again[:2] == ["feint", "render"] and again[-1] == "--resume"
    result = subprocess.run(_feint(*again[1:]), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert _files(out) == _files(dataset16)


@blender
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_repeated_signals_during_the_shutdown_neither_hang_nor_print_a_traceback(tmp_path, signum, code):
    out = tmp_path / "ds"
    proc = _start(out)
    _wait_for(lambda: len(_records(out)) >= 1, proc)
    sent = time.monotonic()
    for _ in range(25):  # the first stops the render, the others land in its shutdown
        with contextlib.suppress(ProcessLookupError):  # all gone already
            os.killpg(proc.pid, signum)
        time.sleep(0.01)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code and time.monotonic() - sent < 2.5, err
    assert "Traceback" not in err
    [line] = _messages(err)
    assert line.startswith("feint: interrupted: ") and line.endswith(" --resume")


@blender
def test_a_render_stopped_before_its_first_image_starts_over_without_resume(tmp_path, dataset16):
    out = tmp_path / "ds"
    proc = _start(out)
    _wait_for((out / "render.json").exists, proc)  # the workers are still starting Blender
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert _messages(err) and "0 of 16 images done" in _messages(err)[0]
    result = subprocess.run(_feint("render", *SMALL, "-o", out), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert _files(out) == _files(dataset16)


def test_a_stop_during_the_progress_bars_construction_arrives_after_it():
    """The race the test above once lost: Ctrl-C inside tqdm's constructor left a bar whose destructor
    printed a traceback. Signals sent while the bar is built wait, and arrive once it is whole."""
    from feint.render.dataset import _signals_held

    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _: seen.append(signum))
    try:
        with _signals_held():
            signal.raise_signal(signal.SIGINT)
            assert seen == []  # held
        assert seen == [signal.SIGINT]  # then delivered, not lost
    finally:
        signal.signal(signal.SIGINT, previous)


@blender
def test_a_worker_that_cannot_start_is_one_line_and_leaves_a_fresh_folder(tmp_path):
    fake = tmp_path / "fake"  # a `bpy` that fails to import, in the workers as Blender might
    fake.mkdir()
    (fake / "bpy.py").write_text("raise RuntimeError('no display (Blender failed to start)')\n")
    out = tmp_path / "ds"
    path = os.pathsep.join(filter(None, [str(fake), os.environ.get("PYTHONPATH")]))
    cmd = _feint("render", "marine", "-n", "2", "--size", "32", "-o", out)
    result = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert _messages(result.stderr) == [
        "feint: error: the render worker could not start: RuntimeError: no display (Blender failed to "
        "start); the finished images are kept: run again with --resume"
    ]
    assert os.listdir(out) == ["render.json"]
    again = subprocess.run(cmd, capture_output=True, text=True)  # no --resume needed: nothing was done
    assert again.returncode == 0, again.stderr


def _only(classes: dict[str, str]) -> str:
    """A graph of the marine classes `classes` (name -> its YAML body), the others weighted 0."""
    others = [c for c in load_graph("marine").class_names() if c not in classes]
    return "".join(f"  {c}: {{weight: 0}}\n" for c in others) + "".join(
        f"  {c}: {body}\n" for c, body in classes.items()
    )


@blender
def test_a_render_whose_every_image_fails_exits_2_with_one_line(tmp_path):
    graph = tmp_path / "g.yaml"  # no ship can ever show 100000 pixels of a 32-pixel image
    graph.write_text("extends: marine\nrender:\n  min_visible_px: 100000\n  max_redraws: 0\n")
    out = tmp_path / "ds"
    cmd = _feint("render", graph, "-n", "2", "--size", "32", "-o", out)
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = _messages(result.stderr)
    assert line.startswith(f"feint: error: {out}: all 2 images failed") and "min_visible_px" in line
    assert [json.loads(p.read_text())["failed"] for p in _records(out)] == [True, True]  # kept
    assert subprocess.run(cmd, capture_output=True, text=True).returncode == 2  # not refused: starts over


@blender
def test_a_render_where_some_images_fail_says_how_many(tmp_path):
    from feint.scene.sampler import make_sampler

    graph = tmp_path / "g.yaml"  # a tug a hundredth of the frame wide is never labelled
    graph.write_text(
        "extends: marine\nrender: {max_redraws: 2}\nclasses:\n"
        + _only({"sailboat": "{weight: 1}", "tug": "{weight: 1, overrides: {camera: {fill: 0.01}}}"})
    )
    sampler = make_sampler(load_graph(graph), 0, 64)
    tugs = sum(sampler.sample(i).params["class"] == "tug" for i in range(4))
    assert 0 < tugs < 4
    result = subprocess.run(
        _feint("render", graph, "-n", 4, "--size", 64, "-o", tmp_path / "ds"), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert f"{4 - tugs} of 4 images" in result.stdout and f"{tugs} failed: too small" in result.stdout


def test_worker_exceptions_become_one_line_that_says_resume(monkeypatch):
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from feint.render.dataset import _result

    monkeypatch.delenv("FEINT_DEBUG", raising=False)
    for error, expected in [
        (RuntimeError("Cycles: out of memory"), "image 7 failed in its worker: RuntimeError: Cycles"),
        (BrokenProcessPool("gone"), "image 7: its worker process died"),
        (FeintError("models/: no model files"), "models/: no model files"),
    ]:
        future: Future = Future()
        future.set_exception(error)
        with pytest.raises(FeintError) as raised:
            _result(future, 7)
        message = str(raised.value)
        assert message.startswith(expected) and message.endswith("run again with --resume")
        assert "\n" not in message


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_folder_without_a_finished_image_starts_over(tmp_path):
    from feint.render.dataset import _prepare_output

    job = RenderJob(load_graph("marine"), 4, tmp_path / "ds", size=32)
    out = job.out
    (out / "records").mkdir(parents=True)
    (out / "images").mkdir()
    (out / "render.json").write_text(json.dumps({"graph": "another graph", "n": 9}))
    (out / "records" / "000001.json").write_text(json.dumps({"index": 1, "failed": True}))
    (out / "images" / ".000002.jpg.x1y2.tmp").write_bytes(b"half an image")
    (out / "dataset.json").write_text("{}")
    _prepare_output(job)  # no --resume, and not refused
    assert os.listdir(out) == ["render.json"]
    assert json.loads((out / "render.json").read_text()) == json.loads(json.dumps(job.spec()))


@pytest.mark.parametrize(
    "name, data",
    [
        ("notes.txt", b"a user's file"),
        ("records/000000.json", b'{"index": 0, "failed": false}'),
        ("images/000000.jpg", b"an image"),
        ("records/notes.txt", b"a user's file"),
    ],
)
def test_a_folder_with_an_image_or_a_user_file_is_refused_untouched(tmp_path, name, data):
    from feint.render.dataset import _prepare_output

    job = RenderJob(load_graph("marine"), 4, tmp_path / "ds", size=32)
    (job.out / "records").mkdir(parents=True)
    (job.out / "render.json").write_text(json.dumps(job.spec()))
    (job.out / "records" / "000001.json").write_text(json.dumps({"index": 1, "failed": True}))
    (job.out / name).parent.mkdir(exist_ok=True)
    (job.out / name).write_bytes(data)
    before = _tree(job.out)
    with pytest.raises(FeintError, match="not empty; pass --resume"):
        _prepare_output(job)
    assert _tree(job.out) == before
    (job.out / "render.json").unlink()  # not a feint folder: never written into, even with --resume
    with pytest.raises(FeintError, match="not a feint render folder"):
        _prepare_output(replace(job, resume=True))


def test_resume_removes_the_temporary_files_of_a_killed_worker(tmp_path):
    from feint.render.dataset import _prepare_output

    job = RenderJob(load_graph("marine"), 4, tmp_path / "ds", size=32, resume=True)
    (job.out / "images").mkdir(parents=True)
    (job.out / "records").mkdir()
    (job.out / "render.json").write_text(json.dumps(job.spec()))
    (job.out / "images" / "000000.jpg").write_bytes(b"an image")
    (job.out / "records" / "000000.json").write_text(json.dumps({"index": 0, "failed": False}))
    (job.out / "images" / ".000001.jpg.x1y2.tmp").write_bytes(b"half an image")
    (job.out / "records" / ".000001.json.x1y2.tmp").write_bytes(b"{")
    _prepare_output(job)
    assert sorted(_tree(job.out)) == ["images/000000.jpg", "records/000000.json", "render.json"]


# A re-draw (the ship too small to label) must keep the image's class, or classes often drawn small fall
# short of their weights. No Blender: the sampler alone decides the class.
def test_an_image_keeps_its_class_through_every_redraw():
    from feint.scene.sampler import make_sampler

    sampler = make_sampler(load_graph("marine"), 5, 64)
    for i in range(40):
        first = sampler.sample(i, 0)
        redrawn = {sampler.sample(i, attempt).params["class"] for attempt in (1, 2, 7)}
        assert redrawn == {first.params["class"]}
        assert sampler.sample(i, 1).seed != first.seed  # the rest of the scene is drawn anew


def test_class_counts_follow_the_weights_when_one_class_is_always_redrawn(tmp_path):
    from feint.scene.sampler import make_sampler

    graph = tmp_path / "g.yaml"
    graph.write_text(
        "extends: marine\nclasses:\n"
        + _only({"sailboat": "{weight: 1}", "tug": "{weight: 1}", "ddg": "{weight: 2}"})
    )
    sampler = make_sampler(load_graph(graph), 0, 64)
    n, counts = 300, {"sailboat": 0, "tug": 0, "ddg": 0}
    for i in range(n):
        attempt = 0
        # As if a tug always came out too small at first: re-drawn twice, as the worker would.
        while sampler.sample(i, attempt).params["class"] == "tug" and attempt < 2:
            attempt += 1
        counts[sampler.sample(i, attempt).params["class"]] += 1
    for cls, weight in [("sailboat", 0.25), ("tug", 0.25), ("ddg", 0.5)]:
        assert abs(counts[cls] / n - weight) < 0.07, counts
