"""`--executor ray` on a local Ray instance (2 CPUs): the same bytes as the local executor, a killed worker
retried without losing or repeating an image, fsspec URL outputs with resume, study runs as Ray tasks."""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feint.distributed import check_executor, connect
from feint.errors import FeintError
from feint.graph import load_graph
from feint.render.dataset import render_dataset
from feint.render.job import RenderJob

N, SIZE, SEED = 8, 64, 3
TIMING = ("name", "wall_seconds", "render_seconds_mean", "workers_last_run")  # how, not what, was rendered


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=200 * 1024**2,
        configure_logging=False,
    )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local8(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "ds"
    render_dataset(RenderJob(load_graph("marine"), N, out, size=SIZE, seed=SEED, workers=1), progress=False)
    return out


def _files(folder: Path) -> dict[str, bytes]:
    """What must not depend on the executor: the images, the COCO file, the parameter table, the card."""
    card = {k: v for k, v in json.loads((folder / "dataset.json").read_text()).items() if k not in TIMING}
    return {p.name: p.read_bytes() for p in sorted((folder / "images").glob("*.jpg"))} | {
        "annotations.json": (folder / "annotations.json").read_bytes(),
        "params.parquet": (folder / "params.parquet").read_bytes(),
        "dataset.json": json.dumps(card).encode(),
    }


def _ray_job(out: Path, n: int = N, **kw) -> RenderJob:
    return RenderJob(load_graph("marine"), n, out, size=SIZE, seed=SEED, executor="ray", **kw)


@pytest.mark.blender
def test_ray_render_is_byte_identical_to_local(ray_local, local8, tmp_path):
    out = tmp_path / "ray"
    card = render_dataset(_ray_job(out, workers=2, recycle_every=3), progress=False)  # actors replaced too
    assert card["images"] == N and card["workers_last_run"] == 2
    assert _files(out) == _files(local8)
    assert (out / "preview.png").stat().st_size > 0


def _render_actors() -> list[int]:
    """Pids of the Ray actor processes rendering an image right now (Ray titles them ray::Class.method)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if proc.name.isdigit() and cmdline.startswith(b"ray::Worker.run"):
            pids.append(int(proc.name))
    return pids


@pytest.mark.blender
@pytest.mark.skipif(sys.platform != "linux", reason="finds the worker process through /proc")
def test_killed_worker_is_retried_without_loss_or_duplicates(ray_local, local8, tmp_path):
    out = tmp_path / "killed"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            render_dataset(_ray_job(out, workers=1), progress=False)
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    killed, deadline = None, time.time() + 180
    while killed is None and time.time() < deadline and thread.is_alive():
        busy = _render_actors()
        if len(list((out / "records").glob("*.json"))) >= 2 and busy:
            killed = busy[0]
            os.kill(killed, signal.SIGKILL)  # in the middle of an image
        time.sleep(0.05)
    thread.join(300)
    assert killed is not None, "the render finished before a worker could be killed"
    assert not errors, errors
    records = sorted(p.name for p in (out / "records").glob("*.json"))
    assert records == [f"{i:06d}.json" for i in range(N)]
    coco = json.loads((out / "annotations.json").read_text())
    assert sorted(im["id"] for im in coco["images"]) == list(range(1, N + 1))
    assert _files(out) == _files(local8)


@pytest.mark.blender
def test_file_url_output_and_resume_equal_local(ray_local, local8, tmp_path):
    from feint.render.url import render_to_url

    url = (tmp_path / "bucket" / "ds").as_uri()  # file:///...: the fsspec code path that s3:// takes
    unused = Path("unused")  # with a URL, the driver's records go to a temporary folder
    assert render_to_url(_ray_job(unused, n=4, workers=2), url, progress=False)["images"] == 4
    with pytest.raises(FeintError, match="not empty"):
        render_to_url(_ray_job(unused, workers=2), url, progress=False)
    card = render_to_url(_ray_job(unused, workers=2, resume=True), url, progress=False)
    out = tmp_path / "bucket" / "ds"
    assert card["images"] == N and card["name"] == "ds"
    assert _files(out) == _files(local8)
    assert (out / "preview.png").stat().st_size > 0
    assert not list(out.rglob(".*.tmp")), "no temporary files left behind"


def test_url_output_needs_the_ray_executor(tmp_path):
    from feint.render.url import render_to_url

    job = RenderJob(load_graph("marine"), 1, tmp_path / "x", size=SIZE)
    with pytest.raises(FeintError, match="--executor ray"):
        render_to_url(job, (tmp_path / "x").as_uri())


def test_without_ray_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(FeintError, match=r"pip install 'feint\[ray\]'"):
        connect()
    with pytest.raises(FeintError, match="unknown executor"):
        check_executor("dask")


# ----- studies ------------------------------------------------------------------------------------------
def _fake_study_data():
    """Random features standing in for the cached ones: runs train real heads on them in well under a
    second, which is all the executor test needs."""
    from feint.studies.data import Part, StudyData

    rng = np.random.default_rng(0)

    def part(n: int, name: str) -> Part:
        labels = np.arange(n) % 2
        features = (rng.normal(size=(n, 16)) + labels[:, None] * 0.8).astype(np.float32)
        return Part(
            [Path(f"{name}/{i}.jpg") for i in range(n)], labels, [f"{name}{i}" for i in range(n)], features
        )

    return StudyData(
        ["a", "b"], part(40, "train"), part(12, "val"), part(20, "test"), part(30, "syn"), Path("syn")
    )


def test_study_runs_on_ray_give_the_same_results(ray_local, tmp_path, monkeypatch):
    import feint.reports.study
    import feint.studies.runs as runs_module
    import feint.studies.study as study_module
    from feint.studies.spec import StudySpec
    from feint.studies.study import StudyRunner

    data = _fake_study_data()
    monkeypatch.setattr(study_module, "prepare", lambda *args: data)
    monkeypatch.setattr(feint.reports.study, "write_report", lambda *args: None)
    spec = StudySpec(
        name="fake",
        real="unused",
        classes=["a", "b"],
        seeds=[0],
        steps=["epochs", "baseline", "zero_shot", "finetune", "grid"],
        baseline_fractions=[0.5, 1.0],
        finetune_fractions=[0.5],
        grid_fractions=[0.0, 1.0],
        grid_synthetic=[0, 5],
        epochs={"fractions": [0.5, 1.0], "max_epochs": 4, "min_epochs": 2},
        synthetic={"per_class": 5},
    )
    driver, real_execute = os.getpid(), runs_module.execute

    def in_workers_only(cfg, data):
        assert os.getpid() != driver, "a study run was trained in the driver"
        return real_execute(cfg, data)

    tracked: dict[str, list[str]] = {"local": [], "ray": []}
    tables = {}
    for executor in ("local", "ray"):
        if executor == "ray":  # every run must now go to a Ray worker, none be trained in this process
            monkeypatch.setattr(runs_module, "execute", in_workers_only)
        out = tmp_path / executor
        runner = StudyRunner(
            spec,
            out,
            tmp_path,
            progress=False,
            executor=executor,
            tracker=lambda step, cfg, result, e=executor: tracked[e].append(f"{step}:{cfg.key()}"),
        )
        tables[executor] = runner.run().table
    pd.testing.assert_frame_equal(tables["local"], tables["ray"])
    assert (tmp_path / "local" / "results.parquet").read_bytes() == (
        tmp_path / "ray" / "results.parquet"
    ).read_bytes()
    runs = {e: {p.name: p.read_bytes() for p in (tmp_path / e / "runs").glob("*.json")} for e in tracked}
    assert runs["local"] == runs["ray"] and len(runs["ray"]) == tables["ray"].run.nunique()
    assert sorted(tracked["local"]) == sorted(tracked["ray"]), "every run logged once, under its step"


def test_ray_device_follows_the_clusters_gpus(ray_local, tmp_path):
    """The driver may have no GPU of its own: a Ray render asks the cluster. This one has none, so `auto`
    renders on its CPUs and a named GPU backend is one line before any actor starts."""
    gpus = int(ray_local.cluster_resources().get("GPU", 0))
    if gpus:
        pytest.skip("this Ray cluster has GPUs")
    card = render_dataset(_ray_job(tmp_path / "auto", n=2, workers=2, device="auto"), progress=False)
    assert card["device"] == "cpu" and card["images"] == 2
    with pytest.raises(FeintError, match="--device cuda: the Ray cluster has no GPUs"):
        render_dataset(_ray_job(tmp_path / "cuda", n=2, workers=2, device="cuda"), progress=False)
    assert not (tmp_path / "cuda").exists()
