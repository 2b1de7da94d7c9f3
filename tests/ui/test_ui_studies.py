"""The study page in a real browser: headlines, curves and grid, the photos most runs miss, and a confusion
cell opening its photos beside their nearest renders (features read from the cache the study filled)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest
from ui_helpers import REAL, screenshot, serving

# The first images matching a selector have loaded (a thumbnail route that failed leaves naturalWidth 0).
LOADED = "sel => [...document.querySelectorAll(sel)].slice(0, 8).every(i => i.complete && i.naturalWidth > 0)"


def study_folders(ui_tree: Path, real_data_module: Path) -> list[Path]:
    """The session tree, the photos and the study's render cache (its renders live there, not in runs/)."""
    return [ui_tree, real_data_module / REAL, ui_tree.parent / "cache"]


@pytest.fixture(scope="module")
def old_study(ui_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's study as an older feint left it: no images.csv."""
    old = tmp_path_factory.mktemp("old") / "study-old"
    shutil.copytree(ui_tree / "study", old, ignore=shutil.ignore_patterns("images.csv", "report.html"))
    return old


@pytest.fixture(scope="module")
def server(ui_tree: Path, real_data_module: Path, old_study: Path, tmp_path_factory) -> Iterator[str]:  # noqa: ANN001
    folders = [*study_folders(ui_tree, real_data_module), old_study.parent]
    with serving(folders, tmp_path_factory.mktemp("ui-work")) as url:
        yield url


def study_url(base: str, folder: Path, **query: str) -> str:
    return f"{base}/study?{urlencode({'path': str(folder), **query})}"


def test_the_study_page_shows_headlines_curves_grid_and_hard_photos(page, server, ui_tree):
    study = ui_tree / "study"
    summary = json.loads((study / "summary.json").read_text())
    page.goto(study_url(server, study))
    stats = page.locator("#headlines .stat").all_inner_texts()
    zero_shot = f"{100 * summary['headlines']['zero_shot_accuracy']:.1f} %"
    real = f"{100 * summary['headlines']['real_100_accuracy']:.1f} %"
    assert any(zero_shot in s and "zero-shot" in s for s in stats), stats
    assert any(real in s and "100 % real" in s for s in stats), stats
    assert any("best mix" in s for s in stats) and any("epoch" in s for s in stats)
    for figure in ("#baseline img", "#grid img", "#epochs img"):
        image = page.locator(f"#figures {figure}")
        assert image.is_visible()
        assert image.evaluate("i => i.naturalWidth") > 100
    assert page.locator("#failure .suggestions li").count() == len(summary["failure"]["suggestions"])
    hard = pd.read_csv(study / "hard_photos.csv")
    figures = page.locator("#hard-photos figure")
    assert figures.count() == min(len(hard), 36) > 0
    first = figures.first
    assert f"{hard.label[0]} → {hard.taken_for[0]}" in first.inner_text()
    assert f"missed by {100 * hard.missed_by[0]:.1f} %" in first.inner_text()
    first.locator("img").scroll_into_view_if_needed()
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=first.locator("img").element_handle())
    assert page.locator("#embedding-link").get_attribute("href").startswith("/embedding?study=")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "study")


def test_a_confusion_cell_opens_its_photos_with_nearest_renders(page, server, ui_tree):
    study = ui_tree / "study"
    page.goto(study_url(server, study))
    table = pd.read_csv(study / "results.csv")
    zero_shot = table[table.step == "zero_shot"].sort_values("synthetic_per_class").run.iloc[-1]
    assert page.locator("#run-choice").input_value() == zero_shot  # the default: zero-shot, most renders
    confusion = json.loads((study / "runs" / f"{zero_shot}.json").read_text())["confusion"]
    i, j = max(((i, j) for i in range(3) for j in range(3) if i != j), key=lambda c: confusion[c[0]][c[1]])
    n = confusion[i][j]
    assert n > 0
    cell = page.locator(f"button.cell[data-true='{i}'][data-pred='{j}']")
    assert cell.inner_text() == str(n)
    cell.click()
    photos = page.locator("#cell .cell-photo")
    photos.first.wait_for()
    assert photos.count() == n
    assert page.locator("#cell .note").count() == 0  # every photo and render found in the cache
    for photo in photos.all():
        renders = photo.locator(".nearest figure")
        assert renders.count() == 3
        similarity = float(renders.first.locator("figcaption").inner_text().rsplit("·", 1)[1])
        assert -1.0 <= similarity <= 1.0
    page.wait_for_function(LOADED, arg="#cell img")
    assert f"{n} " in page.locator("#cell h3").inner_text()
    page.locator("#confusion").scroll_into_view_if_needed()
    screenshot(page, "study-cell")


def test_another_run_is_chosen_from_the_list(page, server, ui_tree):
    study = ui_tree / "study"
    table = pd.read_csv(study / "results.csv")
    baseline = table[(table.step == "baseline") & (table.real_fraction == 1.0)].run.iloc[0]
    page.goto(study_url(server, study))
    page.locator("#run-choice").select_option(baseline)
    page.wait_for_url(f"**run={baseline}**")
    confusion = json.loads((study / "runs" / f"{baseline}.json").read_text())["confusion"]
    shown = [int(b.inner_text()) for b in page.locator("button.cell[data-true='0']").all()]
    assert shown == [v for v in confusion[0] if v]


def test_a_study_without_images_csv_shows_its_page_and_says_why_cells_do_not_open(page, server, old_study):
    page.goto(study_url(server, old_study))
    assert page.locator("#headlines .stat").count() >= 3
    assert "needs a study run with this feint version" in page.locator("#no-images").inner_text()
    cells = page.locator("button.cell")
    assert cells.count() > 0 and cells.first.is_disabled()
    query = {"path": str(old_study), "run": "a" * 16, "true": 0, "pred": 0}
    answer = page.request.get(f"{server}/api/study/cell?{urlencode(query)}")
    assert answer.status == 400 and "images.csv" in answer.json()["error"]


def test_the_cell_api_refuses_a_run_the_study_does_not_have(page, server, ui_tree):
    query = {"path": str(ui_tree / "study"), "run": "../../etc/passwd", "true": 0, "pred": 1}
    answer = page.request.get(f"{server}/api/study/cell?{urlencode(query)}")
    assert answer.status == 400 and "not a run of the study" in answer.json()["error"]
