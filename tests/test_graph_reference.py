"""docs/graph-reference.md is generated from the schema and kept current: a changed field, bound, built-in
distribution or meaning without `feint graph reference -o docs/graph-reference.md` fails here."""

from pathlib import Path

import pytest

from feint.channels import BUILTIN_CHANNELS
from feint.graph import load_graph
from feint.graph.reference import graph_reference

PAGE = Path(__file__).resolve().parents[1] / "docs" / "graph-reference.md"
REGENERATE = "run `feint graph reference -o docs/graph-reference.md --overwrite`"


def test_the_committed_reference_is_current():
    assert PAGE.read_text(encoding="utf-8") == graph_reference(), (
        f"docs/graph-reference.md is stale: {REGENERATE}"
    )


@pytest.mark.parametrize("channel", BUILTIN_CHANNELS, ids=lambda c: c.name)
def test_every_parameter_of_every_builtin_graph_is_listed_with_a_meaning(channel):
    page = graph_reference()
    rows = {
        line.split("|")[1].strip().strip("`"): line for line in page.splitlines() if line.startswith("| `")
    }
    for graph_name in channel.builtin_graphs:
        for path, _ in load_graph(graph_name).parameters():
            if ".overrides." in path:  # a class's own distribution of a graph parameter
                key = path.split(".overrides.", 1)[1]
            elif path.startswith("classes."):
                key = "classes.NAME." + path.split(".", 2)[2]
            else:
                key = path
            assert key in rows, f"{graph_name}: {path} is missing from the reference"
            meaning = rows[key].rstrip(" |").rsplit("|", 1)[1].strip()
            assert meaning, f"{key} has no meaning: give the field an attribute docstring in the schema"


def test_the_command_writes_the_page_and_keeps_an_existing_file(tmp_path, feint_cli):
    out = tmp_path / "ref.md"
    code, _, err = feint_cli("graph", "reference", "-o", out)
    assert code == 0, err
    assert out.read_text(encoding="utf-8") == graph_reference()
    out.write_text("mine")
    code, _, err = feint_cli("graph", "reference", "-o", out)
    assert code == 2 and err.startswith("feint: error:") and "file exists" in err
    assert out.read_text() == "mine"
