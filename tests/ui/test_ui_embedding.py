"""The embedding map in a real browser: a study's photos and renders from the feature cache, drawn as points,
a dragged rectangle showing their images; images without cached features are counted, not computed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest
from test_ui_studies import LOADED, study_folders
from ui_helpers import CLASSES, screenshot, serving


@pytest.fixture(scope="module")
def server(ui_tree: Path, real_data_module: Path, tmp_path_factory) -> Iterator[str]:  # noqa: ANN001
    with serving(study_folders(ui_tree, real_data_module), tmp_path_factory.mktemp("ui-work")) as url:
        yield url


def test_the_study_map_draws_photos_and_renders_and_a_rectangle_shows_them(page, server, ui_tree):
    images = pd.read_csv(ui_tree / "study" / "images.csv")
    page.goto(f"{server}/study?{urlencode({'path': str(ui_tree / 'study')})}")
    page.locator("#embedding-link").click()
    page.locator("#map circle").first.wait_for()
    assert page.locator("#map circle").count() == len(images)  # the study filled the cache with all
    assert page.locator("#map circle.render").count() == (images.role == "synthetic").sum() > 0
    assert page.locator("#map circle.photo").count() == (images.role != "synthetic").sum() > 0
    assert "0 lacked cached features" in page.locator("#summary").inner_text()
    legend = page.locator("#legend").inner_text()
    assert "renders" in legend and "test photos" in legend

    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.8, steps=6)
    page.mouse.up()
    selected = page.locator("#map circle.on").count()
    assert selected > 0
    assert page.locator("#selection-title").inner_text().startswith(f"{selected} image")
    thumbs = page.locator("#selected figure img")
    assert thumbs.count() == min(selected, 120)
    page.wait_for_function(LOADED, arg="#selected img")
    page.locator("#map-card").evaluate("card => card.scrollIntoView()")
    screenshot(page, "embedding")

    page.locator("#colour").select_option("class")
    legend = page.locator("#legend").inner_text()
    assert all(c in legend for c in CLASSES.split(",")) and "renders" not in legend


def test_images_without_cached_features_are_counted_not_computed(page, server, ui_tree):
    """The bottle renders were never run through the study's backbone: counted as lacking features."""
    query = urlencode([("study", str(ui_tree / "study")), ("dataset", str(ui_tree / "renders-bottles"))])
    answer = page.request.get(f"{server}/api/embedding?{query}")
    assert answer.ok, answer.text()
    bottles = next(s for s in answer.json()["sources"] if s["name"] == "renders-bottles")
    assert (bottles["images"], bottles["drawn"], bottles["uncached"]) == (10, 0, 10)
    page.goto(f"{server}/embedding?{query}")
    page.locator("#map circle").first.wait_for()
    assert "10 lacked cached features" in page.locator("#summary").inner_text()
    only_bottles = urlencode({"dataset": str(ui_tree / "renders-bottles")})
    alone = page.request.get(f"{server}/api/embedding?{only_bottles}")
    assert alone.status == 400 and "feature cache" in alone.json()["error"]
