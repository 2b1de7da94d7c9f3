"""The home page lists what lies under the folders, in a real browser."""

from ui_helpers import screenshot


def test_home_lists_every_kind(page, ui_server):
    page.goto(ui_server + "/")
    kinds = {a.get_attribute("data-kind") for a in page.locator("a[data-kind]").all()}
    assert kinds == {"study", "classifier", "detector", "dataset", "graph"}
    assert page.locator("a[data-kind=dataset]").count() >= 4  # two renders, the photos, the predictions
    screenshot(page, "home")
