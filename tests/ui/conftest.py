"""A small tree of everything `feint ui` shows (renders, photos, runs, a study, a graph), a live server over
it and headless Chromium driven by Playwright. Built once per session; real photos from FEINT_REAL_DATA."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_helpers import CLASS_MAP, CLASSES, REAL, REAL_CLASSES, feint, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium as the machine's closed network wants it: no background connections, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def ui_tree(tmp_path_factory: pytest.TempPathFactory, real_data_module: Path) -> Path:
    """runs/: marine and bottles renders, a split photo manifest, a classifier run with an evaluation, a
    detector run with an evaluation and predictions, a tiny study, and a graph file."""
    root = tmp_path_factory.mktemp("ui") / "runs"
    root.mkdir()
    real = real_data_module / REAL
    feint("render", "marine", "-n", 16, "--size", 96, "--workers", 2, "-o", root / "renders-marine", "-q")
    feint("render", "bottles", "-n", 10, "--size", 96, "--workers", 2, "-o", root / "renders-bottles", "-q")
    class_map = root.parent / "typesofships-to-feint.yaml"
    class_map.write_text("".join(f"{name}: {CLASS_MAP.get(name, '')}\n" for name in REAL_CLASSES))
    feint("data", "select", real, "--map", class_map, "--classes", CLASSES, "-o", root / "sel")
    feint(
        "data",
        "subsample",
        root / "sel",
        "--per-class",
        20,
        "--seed",
        0,
        "--to",
        "manifest",
        "-o",
        root / "photos",
    )
    shutil.rmtree(root / "sel")
    feint("data", "split", root / "photos", "--ratios", "0.6,0.2,0.2", "-o", root / "photos-split")
    shutil.rmtree(root / "photos")
    clf = root / "clf"
    feint(
        "train",
        root / "photos-split",
        root / "renders-marine",
        "--classes",
        CLASSES,
        "--mode",
        "frozen",
        "--epochs",
        3,
        "--size",
        64,
        "-o",
        clf,
        "-q",
    )
    feint("eval", clf, root / "photos-split", "-q")
    det = root / "det"
    feint("detect", "train", root / "renders-bottles", "--epochs", 1, "-o", det, "-q")
    feint("detect", "eval", det, root / "renders-bottles", "-q")
    feint("detect", "predict", det, root / "renders-bottles" / "images", "-o", root / "det-pred", "-q")
    spec = root.parent / "tiny.yaml"
    spec.write_text(f"""name: tiny
real: {real}
classes: [{CLASSES}]
class_map: {CLASS_MAP}
seeds: [0]
image_size: 64
synthetic: {{per_class: 10, size: 64, workers: 2}}
baseline_fractions: [0.3, 1.0]
finetune_fractions: [0.5]
grid_fractions: [0.0, 0.5]
grid_synthetic: [0, 10]
epochs: {{fractions: [0.3, 1.0], max_epochs: 6}}
""")
    feint("study", "run", spec, "-o", root / "study", "--cache", root.parent / "cache", "-q")
    (root / "graphs").mkdir()
    (root / "graphs" / "calm-sea.yaml").write_text(
        "extends: marine\nname: calm-sea\nsea:\n  wave_scale: 2.0\n"
    )
    return root


@pytest.fixture(scope="session")
def ui_server(ui_tree: Path, real_data_module: Path) -> Iterator[str]:
    """`feint ui RUNS TYPESOFSHIPS` served on a free port in a thread; yields its base URL."""
    with serving([ui_tree, real_data_module / REAL], ui_tree.parent / "ui-work") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium under Playwright (never a browser Playwright would download)."""
    if CHROMIUM is None:
        pytest.skip("Debian chromium not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, tmp_path: Path):  # noqa: ANN001, ANN201
    """A fresh browser page (1280x900); console errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda err: errors.append(str(err)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors: {errors}"
