"""The Datasets page in a real browser (grid, filters, detail, histogram, renders beside photos) and its fast
index held equal to what `load_dataset` reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from ui_helpers import REAL, screenshot

from feint.datasets import load_dataset
from feint.ui.app import create_app
from feint.ui.dataset_index import build_index, dataset_index


def _open(page, ui_server: str, folder: Path, query: str = "") -> None:
    page.goto(f"{ui_server}/dataset?path={quote(str(folder))}{query}")
    page.wait_for_selector("#grid figure")


def _count(page) -> tuple[int, int]:
    """(images kept, images in all) from the page's "N of M images"."""
    page.wait_for_function("/^\\d+ of \\d+ images$/.test(document.getElementById('count').textContent)")
    shown, total = page.locator("#count").inner_text().split(" of ")
    return int(shown), int(total.split()[0])


def _wait_count(page, expected: int) -> None:
    page.wait_for_function(
        f"document.getElementById('count').textContent.startsWith('{expected} of ')", timeout=5000
    )


def test_renders_grid_shows_images(page, ui_server, ui_tree):
    _open(page, ui_server, ui_tree / "renders-marine")
    assert _count(page) == (16, 16)
    assert page.locator("#grid figure").count() == 16
    thumb = page.locator("#grid figure svg image").first.get_attribute("href")
    answer = page.request.get(ui_server + thumb)
    assert answer.status == 200 and answer.headers["content-type"] == "image/jpeg"


def test_class_and_range_filters_change_the_grid(page, ui_server, ui_tree):
    folder = ui_tree / "renders-marine"
    frame = load_dataset(folder).frame()
    _open(page, ui_server, folder)
    field = next(f for f in ("sea.waves", "ship.roll", "sky.clouds") if frame[f].nunique() > 3)
    page.select_option("#add-filter", field)
    low = page.locator(f'[data-field="{field}"] input[type=range]').first
    low.fill(str(float(frame[field].median())))
    cut = float(low.input_value())  # the slider's own step may round the value
    in_range = frame[field] >= cut
    assert 0 < in_range.sum() < 16
    _wait_count(page, int(in_range.sum()))
    page.wait_for_function(f"document.querySelectorAll('#grid figure').length === {in_range.sum()}")
    assert "f." + field in page.url
    screenshot(page, "datasets")

    name = frame.loc[in_range, "class"].value_counts().index[0]
    page.locator(".ds-choice", has_text=name).locator("input").check()
    expected = int((in_range & (frame["class"] == name)).sum())
    assert expected < in_range.sum()
    _wait_count(page, expected)
    page.wait_for_function(f"document.querySelectorAll('#grid figure').length === {expected}")
    assert "f.class=" in page.url
    page.reload()  # the filters live in the URL: a reload shows the same view
    _wait_count(page, expected)
    assert page.locator(".ds-choice", has_text=name).locator("input").is_checked()


def test_detail_shows_parameters_and_labels(page, ui_server, ui_tree):
    folder = ui_tree / "renders-marine"
    first = load_dataset(folder).records[0]
    _open(page, ui_server, folder)
    page.locator("#grid figure").first.click()
    page.wait_for_selector(".ds-params")
    facts = page.locator(".ds-facts").inner_text()
    assert str(first.image) in facts and first.group in facts and first.primary_class in facts
    params = page.locator(".ds-params").inner_text()
    assert "sea.waves" in params and "camera.elevation" in params
    assert page.locator(".ds-detail-image rect.ds-box").count() == len(first.boxes)
    assert "detail=0" in page.url
    screenshot(page, "dataset-detail")
    page.keyboard.press("Escape")
    assert page.locator("#detail").is_hidden()


def test_histogram_of_a_parameter_per_class(page, ui_server, ui_tree):
    folder = ui_tree / "renders-marine"
    classes = set(load_dataset(folder).frame()["class"])
    _open(page, ui_server, folder)
    page.click("[data-view=hist]")
    page.select_option("#hist-field", "ship.roll")
    page.wait_for_selector("#hist-plot svg")
    page.wait_for_function("document.getElementById('hist-plot').textContent.includes('ship.roll')")
    text = page.locator("#hist-plot svg").inner_html()
    assert all(c in text for c in classes)  # one legend entry per class
    assert "view=hist" in page.url and "hist=ship.roll" in page.url


def test_renders_beside_photos_per_shared_class(page, ui_server, ui_tree):
    renders, photos = ui_tree / "renders-marine", ui_tree / "photos-split"
    shared = set(load_dataset(renders).frame()["class"]) & set(load_dataset(photos).frame()["class"])
    assert shared, "the tree's renders share no class with the photos"
    page.goto(f"{ui_server}/dataset?path={quote(str(renders))}&view=compare&compare={quote(str(photos))}")
    page.wait_for_selector(".ds-compare-class")
    sections = page.locator(".ds-compare-class")
    assert {sections.nth(k).get_attribute("data-class") for k in range(sections.count())} == shared
    for k in range(sections.count()):
        strips = sections.nth(k).locator(".ds-strip")
        assert strips.count() == 2
        assert strips.nth(0).locator("figure").count() >= 1 and strips.nth(1).locator("figure").count() >= 1
    assert "renders" in sections.first.locator(".ds-strip").nth(0).inner_text()
    assert "photos" in sections.first.locator(".ds-strip").nth(1).inner_text()
    screenshot(page, "renders-vs-photos")


def test_bottles_grid_draws_boxes_and_masks(page, ui_server, ui_tree):
    folder = ui_tree / "renders-bottles"
    dataset = load_dataset(folder)
    _open(page, ui_server, folder)
    assert page.locator("#grid rect.ds-box").count() == sum(len(r.boxes) for r in dataset.records)
    masks = page.locator("#grid image.ds-mask")
    assert masks.count() == sum(r.masks is not None for r in dataset.records) > 0
    answer = page.request.get(ui_server + masks.first.get_attribute("href"))
    assert answer.status == 200 and answer.headers["content-type"] == "image/png"


def test_photos_split_shows_its_photos(page, ui_server, ui_tree, real_data_module):
    n = len(load_dataset(ui_tree / "photos-split"))
    _open(page, ui_server, ui_tree / "photos-split")
    assert _count(page) == (n, n)
    assert page.locator("#grid figure").count() == n
    assert page.locator("#grid .ds-outside").count() == 0  # the photos' folder was given to the server
    page.locator("#grid figure").first.click()
    page.wait_for_selector(".ds-facts")
    assert str((real_data_module / REAL).resolve()) in page.locator(".ds-facts").inner_text()


# ---- the index, without a browser ----


@pytest.mark.parametrize("name", ["renders-marine", "renders-bottles"])
def test_render_index_equals_what_load_dataset_reads(ui_tree, name):
    folder = ui_tree / name
    index, dataset = build_index(folder), load_dataset(folder)
    assert index.format == "feint" and index.classes == dataset.classes
    pd.testing.assert_frame_equal(index.frame, dataset.frame(), check_dtype=False)
    for i, record in enumerate(dataset.records):
        boxes = index.image_boxes(i)
        assert np.allclose([b[:4] for b in boxes], record.boxes.reshape(-1, 4))
        assert tuple(dataset.classes[b[4]] for b in boxes) == record.box_labels
        assert bool(index.image_masks(i)) == (record.masks is not None)


def test_index_is_read_again_when_its_labels_change(ui_tree, tmp_path):
    folder = shutil.copytree(ui_tree / "renders-marine", tmp_path / "renders")
    assert dataset_index(folder) is dataset_index(folder)  # cached
    params = pd.read_parquet(folder / "params.parquet")
    params["sea.waves"] = 0.125
    params.to_parquet(folder / "params.parquet")
    assert set(dataset_index(folder).frame["sea.waves"]) == {0.125}


def test_api_pages_filters_and_refuses_unknown_fields(ui_tree):
    client = TestClient(
        create_app([ui_tree], workdir=ui_tree.parent / "ui-work-api"), base_url="http://127.0.0.1"
    )
    folder = str(ui_tree / "renders-marine")
    frame = load_dataset(folder).frame()
    pages = [
        client.get("/api/dataset/images", params={"path": folder, "per": 5, "page": p}).json() for p in (1, 4)
    ]
    assert pages[0]["pages"] == 4 and len(pages[0]["items"]) == 5 and len(pages[1]["items"]) == 1
    assert [item["file"] for item in pages[0]["items"]] == frame["file"].tolist()[:5]
    kept = client.get("/api/dataset/images", params={"path": folder, "f.ship.roll": "0..1e9"}).json()
    assert kept["matched"] == int((frame["ship.roll"] >= 0).sum())
    wrong = client.get("/api/dataset/images", params={"path": folder, "f.no.such": "1"})
    assert wrong.status_code == 400 and "no field 'no.such'" in wrong.json()["error"]
    outside = client.get("/api/dataset/images", params={"path": "/etc"})
    assert outside.status_code == 403
    photos = str(ui_tree / "photos-split")
    items = client.get("/api/dataset/images", params={"path": photos}).json()["items"]
    assert items and not any(item["ok"] for item in items)  # the photos' folder was not given to this app
    detail = client.get("/api/dataset/image", params={"path": folder, "i": 0}).json()
    assert dict(detail["fields"])["sea.waves"] == json.loads(json.dumps(frame["sea.waves"].iloc[0]))
