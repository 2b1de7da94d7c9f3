"""The graph editor in a real browser (errors at their line, Sample, Preview, Save as) and its API: paths
relative to the opened file, the folders it may read, names it may write, preview jobs and their limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from ui_helpers import screenshot

GOOD = "extends: marine\nname: calm-sea\nsea:\n  wave_scale: 3.0\n"
MISSPELT = "extends: marine\nname: calm-sea\nsea:\n  wave_scael: 2.0\n"
OUT_OF_RANGE = "extends: marine\nname: calm-sea\nsea:\n  wave_scale: {uniform: [0, 5]}\n"


@pytest.fixture
def graph_file(ui_tree: Path) -> Iterator[Path]:
    """The tree's graph file, which the editor opens and must never write."""
    path = ui_tree / "graphs" / "calm-sea.yaml"
    before = path.read_bytes()
    yield path
    assert path.read_bytes() == before


def open_editor(page, base: str, path: Path) -> None:  # noqa: ANN001
    page.goto(f"{base}/graph?path={quote(str(path))}")
    page.wait_for_selector(".verdict.ok")  # the file as it is loads


def test_errors_are_shown_at_their_line(page, ui_server, graph_file):
    open_editor(page, ui_server, graph_file)
    for text, words in ((OUT_OF_RANGE, "below the minimum"), (MISSPELT, "sea.wave_scael: unknown field")):
        page.fill("#source", text)
        page.wait_for_selector(".verdict.bad")
        marked = page.locator("#gutter .bad")
        assert marked.count() == 1
        assert marked.get_attribute("data-line") == "4"
        band = page.locator("#marks .band")
        assert band.get_attribute("data-line") == "4" and words in band.inner_text()
        assert page.locator("#problems").inner_text().startswith("line 4: ")
        page.fill("#source", GOOD)
        page.wait_for_selector(".verdict.ok")
    page.fill("#source", MISSPELT)
    page.wait_for_selector("#marks .band")
    screenshot(page, "graph")


def test_a_valid_edit_validates(page, ui_server, graph_file):
    open_editor(page, ui_server, graph_file)
    page.fill("#source", MISSPELT)
    page.wait_for_selector(".verdict.bad")
    page.fill("#source", GOOD.replace("3.0", "{uniform: [1, 4]}"))
    page.wait_for_selector(".verdict.ok")
    assert "marine channel, 10 classes" in page.inner_text("#verdict")
    assert page.locator("#gutter .bad").count() == 0 and page.locator("#marks .band").count() == 0


def test_sample_shows_a_table(page, ui_server, graph_file):
    open_editor(page, ui_server, graph_file)
    page.fill("#sample-n", "3")
    page.click("#sample")
    page.wait_for_selector("#samples tr")
    assert page.locator("#samples tr").first.locator("th").all_inner_texts() == [
        "parameter",
        "#0",
        "#1",
        "#2",
    ]
    rows = page.locator("#samples tr")
    assert rows.nth(1).locator("th").inner_text() == "class"
    wave_scale = page.locator("#samples tr", has=page.locator("th", has_text="sea.wave_scale"))
    assert set(wave_scale.locator("td").all_inner_texts()) == {"2"}  # the file's constant, not marine's range
    assert wave_scale.is_hidden()  # a constant: hidden while only what varies is shown
    page.uncheck("#varying")
    assert wave_scale.is_visible()


def test_preview_renders_images(page, ui_server, ui_tree, graph_file):
    open_editor(page, ui_server, graph_file)
    page.fill("#preview-n", "2")
    page.fill("#preview-size", "64")
    page.click("#preview")
    page.wait_for_selector(".progress[data-state=done]", timeout=120_000)
    assert page.inner_text("#progress-text").startswith("done: 2 of 2 images")
    images = page.locator("#previews img")
    assert images.count() == 2
    for i in range(2):
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth == 64", arg=images.nth(i).element_handle()
        )
    rendered = images.first.get_attribute("data-path")
    assert Path(rendered).is_relative_to(ui_tree.parent / "ui-work" / "previews")
    page.click("#sample")
    page.wait_for_selector("#samples tr")
    screenshot(page, "graph-preview")


def test_save_as_writes_a_new_file_and_refuses_an_existing_name(page, ui_server, ui_tree, graph_file):
    name = f"saved-{time.time_ns()}"
    target = ui_tree.parent / "ui-work" / "graphs" / f"{name}.yaml"
    open_editor(page, ui_server, graph_file)
    page.fill("#source", GOOD)
    page.fill("#save-name", name)
    page.click("#save-form button[type=submit]")
    page.wait_for_selector("#save-result.ok")
    assert target.read_text() == GOOD
    page.fill("#source", GOOD.replace("3.0", "5.0"))
    page.click("#save-form button[type=submit]")
    page.wait_for_selector("#save-result.error")
    assert "exists already" in page.inner_text("#save-result")
    assert target.read_text() == GOOD  # not overwritten
    page.fill("#save-name", "../escape")
    page.click("#save-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#save-result').textContent.includes('file name')")
    assert not (ui_tree.parent / "ui-work" / "escape.yaml").exists()
    page.goto(ui_server + "/graphs")
    assert page.locator(f"a:has-text('{name}.yaml')").count() == 1  # the catalog lists it
    assert page.locator("a:has-text('previews/')").count() == 0  # and no preview's own graph file


@pytest.fixture
def client(tmp_path: Path) -> Iterator[object]:
    """The app over one folder holding a base graph and a graph extending it by a relative path."""
    from fastapi.testclient import TestClient

    from feint.ui.app import create_app

    folder = tmp_path / "graphs"
    (folder / "sub").mkdir(parents=True)
    (folder / "base.yaml").write_text("extends: marine\nname: base\nsea:\n  wave_scale: 5.0\n")
    (folder / "sub" / "child.yaml").write_text("extends: ../base.yaml\nname: child\n")
    with TestClient(create_app([folder], workdir=tmp_path / "work"), base_url="http://127.0.0.1") as c:
        yield c


def test_relative_extends_resolves_from_the_opened_file(client, tmp_path):
    child = str(tmp_path / "graphs/sub/child.yaml")
    text = "name: child\n\nextends: ../base.yaml\nsea:\n  foam: 0.5\n"
    assert client.post("/api/graph/validate", json={"text": text, "path": child}).json()["ok"]
    table = client.post("/api/graph/sample", json={"text": text, "path": child, "n": 2}).json()
    rows = {r["name"]: r["values"] for r in table["rows"]}
    assert rows["sea.wave_scale"] == ["5", "5"] and rows["sea.foam"] == ["0.5", "0.5"]
    # the error of a file it extends names that file and its line, and marks no line of the editor
    (tmp_path / "graphs/base.yaml").write_text("extends: marine\nname: base\nsea:\n  wave_scale: -1\n")
    got = client.post("/api/graph/validate", json={"text": text, "path": child}).json()
    assert got["errors"] == [{"line": None, "message": got["errors"][0]["message"]}]
    assert got["errors"][0]["message"].startswith(f"{tmp_path / 'graphs/sub/../base.yaml'}:4: sea.wave_scale")
    # saved elsewhere, the path is made absolute so that the new file still loads
    saved = client.post("/api/graph/save", json={"text": text.replace("../", ""), "path": child, "name": "c"})
    assert saved.status_code == 400  # sub/base.yaml does not exist: nothing saved
    good = client.post(
        "/api/graph/save", json={"text": GOOD.replace("marine", "../base.yaml"), "path": child, "name": "c"}
    )
    data = yaml.safe_load(Path(good.json()["path"]).read_text())
    assert data["extends"] == str(tmp_path / "graphs/sub/../base.yaml")


def test_paths_outside_the_folders_are_refused_at_their_line(client, tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("extends: marine\nname: x\n")
    text = f"name: x\nextends: {outside}\n"
    got = client.post("/api/graph/validate", json={"text": text, "path": None}).json()
    assert got["errors"][0]["line"] == 2 and "outside the folders" in got["errors"][0]["message"]
    refused = client.get("/graph", params={"path": str(outside)})
    assert refused.status_code == 403


def test_previews_are_limited_and_cancelled(client):
    body = {"text": GOOD, "path": None, "n": 16, "size": 64}
    started = [client.post("/api/graph/preview", json=body).json() for _ in range(2)]
    third = client.post("/api/graph/preview", json=body)
    assert third.status_code == 400 and "rendering already" in third.json()["error"]
    for job in started:
        assert client.post(f"/api/graph/preview/{job['id']}/cancel", json={}).json()["state"] in (
            "cancelling",
            "cancelled",
        )
    deadline = time.monotonic() + 30
    states = set()
    while time.monotonic() < deadline:
        states = {client.get(f"/api/graph/preview/{job['id']}").json()["state"] for job in started}
        if states == {"cancelled"}:
            break
        time.sleep(0.2)
    assert states == {"cancelled"}
    assert client.get("/api/graph/preview/nope").status_code == 404
