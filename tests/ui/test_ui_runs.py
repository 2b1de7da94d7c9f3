"""The Runs pages in a real browser: a classifier run with its curves and scored photos, a detector run with
its mAP and boxes drawn, detector predictions, and two runs side by side."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from ui_helpers import CLASSES, REAL, feint, screenshot, serving

from feint.ui.runs import MAX_BOXES


def run_url(base: str, path: Path) -> str:
    return f"{base}/run?path={quote(str(path))}"


def test_classifier_run_shows_curves_and_evaluation(page, ui_server, ui_tree):
    rows = list(csv.DictReader((ui_tree / "clf/eval-photos-split-test/predictions.csv").open()))
    page.goto(run_url(ui_server, ui_tree / "clf"))
    assert page.locator(".curves svg").count() == 1
    curves = page.locator(".curves svg").inner_html()
    assert "<!-- train -->" in curves and "<!-- validation -->" in curves  # matplotlib's legend entries
    evaluation = page.locator("[data-evaluation=eval-photos-split-test]")
    accuracy = json.loads((ui_tree / "clf/eval-photos-split-test/metrics.json").read_text())["accuracy"]
    assert f"{accuracy:.3f}" in evaluation.locator(".stats").inner_text()
    assert evaluation.locator("table.confusion td").count() == len(CLASSES.split(",")) ** 2
    figures = evaluation.locator(".grid.scored figure")
    assert figures.count() == len(rows)
    mistakes = sum(r["correct"] != "True" for r in rows)
    assert evaluation.locator("figure.wrong").count() == mistakes
    if mistakes:  # mistakes come first
        assert "wrong" in figures.first.get_attribute("class")
    first = figures.first.locator("img")
    first.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=first.element_handle())
    page.evaluate("window.scrollTo(0, document.querySelector('h1').offsetTop - 8)")
    screenshot(page, "run")


def test_detector_run_shows_map_and_boxes(page, ui_server, ui_tree):
    folder = ui_tree / "det/detect-eval-renders-bottles"
    metrics = json.loads((folder / "metrics.json").read_text())
    truth = json.loads((folder / "ground_truth.json").read_text())
    found = json.loads((folder / "detections.json").read_text())
    page.goto(run_url(ui_server, ui_tree / "det"))
    evaluation = page.locator("[data-evaluation=detect-eval-renders-bottles]")
    assert "mAP@0.5" in evaluation.locator(".stats").inner_text()
    assert f"{metrics['map50']:.3f}" in evaluation.locator(".stats").inner_text()
    assert evaluation.locator("table.per-class tr").count() == len(metrics["per_class"]) + 1
    boxes = evaluation.locator("[data-boxes][data-loaded]")
    boxes.wait_for()
    assert boxes.locator("svg image").count() == len(truth["images"])
    assert boxes.locator("rect.truth").count() == len(truth["annotations"])
    slider = boxes.locator("[data-threshold]")
    scores: dict[int, list[float]] = {}
    for d in found:
        scores.setdefault(d["image_id"], []).append(d["score"])
    shown = [s for image in scores.values() for s in sorted(image, reverse=True)[:MAX_BOXES]]
    for threshold in (0.0, 0.1, 1.0):
        slider.evaluate("(s, t) => { s.value = t; s.dispatchEvent(new Event('input')); }", str(threshold))
        expected = sum(s >= threshold for s in shown)
        assert boxes.locator("rect.found:not(.hidden)").count() == expected
    # the `feint detect predict` folder beside the run names it: listed on the run's page
    assert page.locator(".card h2 a", has_text="det-pred").count() == 1


def test_prediction_folder_shows_its_images(page, ui_server, ui_tree):
    images = json.loads((ui_tree / "det-pred/images.json").read_text())["images"]
    page.goto(run_url(ui_server, ui_tree / "det-pred"))
    assert page.locator("h1 + p a").inner_text().endswith("/det")  # the run that predicted them
    boxes = page.locator("[data-boxes][data-loaded]")
    boxes.wait_for()
    assert boxes.locator("figure svg").count() == len(images)
    assert boxes.locator("rect.truth").count() == 0


def test_outside_images_are_placeholders(ui_tree, tmp_path):
    """A record naming a photo outside the folders is drawn as a placeholder, never served."""
    from fastapi.testclient import TestClient

    from feint.ui.app import create_app

    copy = tmp_path / "det-pred-copy"
    copy.mkdir()
    index = json.loads((ui_tree / "det-pred/images.json").read_text())
    index["images"][0]["file_name"] = "/etc/hostname"
    (copy / "images.json").write_text(json.dumps(index))
    (copy / "detections.json").write_text("[]")
    app = create_app([copy, ui_tree])
    with TestClient(app, base_url="http://127.0.0.1") as client:
        got = client.get("/api/run/boxes", params={"path": str(copy)}).json()
    assert [i["allowed"] for i in got["images"]][:2] == [False, True]


@pytest.fixture(scope="module")
def second_run(ui_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second frozen classifier on the same data with another learning rate (seconds to train), outside
    the shared tree so that no other test sees it."""
    more = tmp_path_factory.mktemp("more-runs")
    run = more / "clf-lr"
    feint(
        "train",
        ui_tree / "photos-split",
        ui_tree / "renders-marine",
        "--classes",
        CLASSES,
        "--mode",
        "frozen",
        "--epochs",
        5,
        "--lr",
        0.003,
        "--size",
        64,
        "-o",
        run,
        "-q",
    )
    feint("eval", run, ui_tree / "photos-split", "-q")
    return run


@pytest.fixture(scope="module")
def compare_server(ui_tree: Path, second_run: Path, real_data_module: Path) -> Iterator[str]:
    folders = [ui_tree, second_run.parent, real_data_module / REAL]
    with serving(folders, ui_tree.parent / "ui-work") as url:
        yield url


def test_compare_shows_both_runs(page, compare_server, ui_tree, second_run):
    page.goto(compare_server + "/runs")
    page.select_option("select[name=a]", str(ui_tree / "clf"))
    page.select_option("select[name=b]", str(second_run))
    page.click("form.compare-form button[type=submit]")
    page.wait_for_url("**/runs/compare?**")
    heads = page.locator(".run-head h2 a")
    assert [heads.nth(i).inner_text() for i in range(2)] == ["clf", "clf-lr"]
    curves = page.locator(".curves svg").inner_html()
    assert "<!-- clf validation -->" in curves and "<!-- clf-lr validation -->" in curves  # one figure
    diff = page.locator("table.diff")
    differing = {row.locator("th").inner_text() for row in diff.locator("tr.differs").all()}
    assert {"epochs", "lr", "out"} <= differing
    assert "mode" not in differing
    assert diff.locator("tr.same").first.is_hidden()  # only what differs, until asked
    page.click("[data-diff-toggle]")
    assert diff.locator("tr.same").first.is_visible()
    metrics = page.locator("table.metrics")
    assert "eval-photos-split-test" in metrics.locator("tr.section").all_inner_texts()
    row = metrics.locator("tr", has=page.locator("th", has_text="balanced accuracy"))
    expected = [
        json.loads((run / "eval-photos-split-test/metrics.json").read_text())["balanced_accuracy"]
        for run in (ui_tree / "clf", second_run)
    ]
    cells = row.locator("td").all_inner_texts()
    assert [c.split()[0] for c in cells] == [f"{x:.3f}" for x in expected]
    page.click("[data-diff-toggle]")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "runs-compare")
