"""The Graphs page: open a graph file (or a built-in one), edit it with its errors at their line, sample it,
preview a few renders of it, and save it as a new file in the work folder.

The text in the editor is checked by feint's own loader, as `feint graph validate` would check the file: it
is written to a temporary file in the work folder and loaded from there. Paths in a graph are relative to
its file (`extends: ../base.yaml`, `classes.X.models: ships/`), so before that they are made absolute
against the folder of the file that was opened; the line numbers do not change (each is rewritten in
place) and the loader's `file:line: field: message` points into the editor. The app never writes the
opened file: "Save as" writes a new one under WORKDIR/graphs and refuses a name that exists.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from feint.channels import builtin_graph_names
from feint.errors import FeintError
from feint.graph.loader import Graph, builtin_graph_path, load_graph
from feint.ui import catalog, jobs
from feint.ui.roots import Roots
from feint.ui.web import checked, page, roots

router = APIRouter()

MAX_TEXT = 1_000_000  # bytes of a graph file the editor opens (catalog.is_graph_file's limit)
SEED_MAX = 2**32 - 1  # `feint render --seed`
SAMPLES = (1, 50)  # how many parameter sets the Sample table may show
PREVIEWS = (1, 16)  # how many images one preview may render
PREVIEW_SIZES = (32, 512)  # their size: previews are meant to be quick
SAMPLE_SIZES = (16, 4096)  # `feint render --size`
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}\.ya?ml")
HIDDEN = ("asset.params", "index", "seed", "attempt")  # sample fields the Sample table leaves out
LOCATED = re.compile(r"(\d+): (.*)", re.DOTALL)


class GraphTextError(FeintError):
    """The editor's text fails to load; `line` is its line in the editor, None when the fault is in a
    file it extends or in no line at all."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.message, self.line = message, line


class GraphText(BaseModel):
    """The editor's text and the file it was opened from (None: a built-in graph or a new one)."""

    text: str = Field(max_length=MAX_TEXT)
    path: str | None = None


class SampleRequest(GraphText):
    n: int = 8
    seed: int = 0
    size: int = 160


class PreviewRequest(GraphText):
    n: int = 4
    seed: int = 0
    size: int = 96


class SaveRequest(GraphText):
    name: str = Field(max_length=200)


def within(name: str, value: int, bounds: tuple[int, int]) -> int:
    if not bounds[0] <= value <= bounds[1]:
        raise FeintError(f"{name} {value}: must be between {bounds[0]} and {bounds[1]}")
    return value


def origin(request: Request, path: str | None) -> Path | None:
    """The opened graph file (checked against the app's folders), or None for a built-in or new text."""
    if not path:
        return None
    real = checked(request, path)
    if not real.is_file():
        raise HTTPException(404, f"{path}: not a file")
    return real


def anchor(text: str, base: Path, folders: Roots) -> str:
    """`text` with its relative `extends:` and `classes.X.models:` paths made absolute against `base`, each
    rewritten on its own line; a path outside the app's folders is refused at its line (the loader would
    read it). Text that is no YAML mapping is left as it is: the loader says where it breaks."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # the pure-Python parser: marks count characters
    except yaml.YAMLError:
        return text
    if not isinstance(root, yaml.MappingNode):
        return text
    edits = []
    for key, value in root.value:
        if key.value == "extends" and not (
            isinstance(value, yaml.ScalarNode) and value.value in builtin_graph_names()
        ):
            edits.append(_absolute(value, "extends", base, folders))
        if key.value == "classes" and isinstance(value, yaml.MappingNode):
            for name, spec in value.value:
                for field, models in spec.value if isinstance(spec, yaml.MappingNode) else []:
                    if field.value == "models":
                        edits.append(_absolute(models, f"classes.{name.value}.models", base, folders))
    for start, end, replacement in sorted((e for e in edits if e), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _absolute(node: yaml.Node, field: str, base: Path, folders: Roots) -> tuple[int, int, str] | None:
    """(start, end, replacement) of a relative path scalar; None for an absolute one or no path at all."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value:
        return None
    path = Path(node.value) if Path(node.value).is_absolute() else base / node.value
    if not folders.allows(path):
        line = node.start_mark.line + 1
        raise GraphTextError(f"{field}: {node.value} lies outside the folders feint ui was given", line)
    if Path(node.value).is_absolute() or node.start_mark.line != node.end_mark.line:
        return None
    return node.start_mark.index, node.end_mark.index, json.dumps(str(path))


def load_text(folders: Roots, text: str, opened: Path | None) -> tuple[Graph, str]:
    """The graph the editor's text describes and the text as loaded (paths made absolute); a
    GraphTextError at the editor's line if it does not load."""
    name = opened.name if opened else "new.yaml"
    anchored = anchor(text, opened.parent if opened else folders.work("graphs"), folders)
    scratch = Path(tempfile.mkdtemp(dir=folders.work("tmp")))
    file = scratch / name
    try:
        file.write_text(anchored, encoding="utf-8")
        try:
            return load_graph(str(file)), anchored
        except FeintError as err:
            raise located(str(err), str(file), name) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def located(message: str, file: str, name: str) -> GraphTextError:
    """The loader's `FILE:LINE: field: message` as (message, line) when FILE is the editor's text; a
    fault in a file it extends keeps that file's name and line in its message."""
    if message.startswith(file + ":"):
        rest = message[len(file) + 1 :].lstrip()
        found = LOCATED.fullmatch(rest)
        if found:
            return GraphTextError(found.group(2).replace(file, name), int(found.group(1)))
        return GraphTextError(rest.replace(file, name), None)
    return GraphTextError(message.replace(file, name), None)


def describe(graph: Graph) -> str:
    """What `feint graph validate` prints for a good graph."""
    parameters = sum(1 for _ in graph.parameters())
    return f"{graph.channel} channel, {len(graph.class_names())} classes, {parameters} parameters"


def sample_table(graph: Graph, n: int, seed: int, size: int) -> dict[str, Any]:
    """N parameter sets as rows of parameters by columns of samples (what `feint graph sample` prints,
    less the bookkeeping: a column is its index, its 19-digit image seed and the asset's JSON say nothing
    at a glance), the class first; `varies` tells the parameters the graph randomises from constants."""
    from feint.scene.sampler import make_sampler

    sampler = make_sampler(graph, seed, size)
    samples = [sampler.sample(index).params for index in range(n)]
    first = ["class", "variant"]
    names = [k for k in first if k in samples[0]] + [k for k in samples[0] if k not in (*first, *HIDDEN)]
    rows = []
    for name in names:
        values = [_shown(s.get(name)) for s in samples]
        rows.append({"name": name, "values": values, "varies": len(set(values)) > 1})
    return {"samples": n, "seed": seed, "rows": rows}


def _shown(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@router.get("/graphs", response_class=HTMLResponse)
def graphs_list(request: Request) -> HTMLResponse:
    entries = [e for e in catalog.scan(roots(request)) if e.kind == "graph"]
    return page(request, "graphs.html", title="Graphs", entries=entries, builtins=builtin_graph_names())


@router.get("/graph", response_class=HTMLResponse)
def graph_page(request: Request, path: str | None = None, builtin: str | None = None) -> HTMLResponse:
    """The editor over a graph file (`path`) or a copy of a built-in graph (`builtin`)."""
    opened = origin(request, path)
    if opened is not None:
        if opened.suffix.lower() not in (".yaml", ".yml") or opened.stat().st_size > MAX_TEXT:
            raise HTTPException(404, f"{path}: not a graph YAML file")
        try:
            text = opened.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise HTTPException(404, f"{path}: not a UTF-8 text file") from None
        title, suggestion = opened.name, f"{opened.stem}-edit.yaml"
    elif builtin in builtin_graph_names():
        text = builtin_graph_path(builtin).read_text(encoding="utf-8")
        title, suggestion = f"new from built-in {builtin}", f"my-{builtin}.yaml"
    else:
        raise HTTPException(404, "give ?path=GRAPH.yaml or ?builtin=" + "|".join(builtin_graph_names()))
    return page(
        request,
        "graph.html",
        text=text,
        path=str(opened) if opened else "",
        title=title,
        suggestion=suggestion,
        workdir=roots(request).workdir / "graphs",
        builtins=builtin_graph_names(),
    )


@router.post("/api/graph/validate")
def validate(request: Request, body: GraphText) -> dict[str, Any]:
    """ok and a summary, or the error at its line (an error is an answer here, not a failed request)."""
    try:
        graph, _ = load_text(roots(request), body.text, origin(request, body.path))
    except GraphTextError as err:
        return {"ok": False, "errors": [{"line": err.line, "message": err.message}]}
    return {"ok": True, "summary": describe(graph)}


@router.post("/api/graph/sample")
def sample(request: Request, body: SampleRequest) -> dict[str, Any]:
    graph, _ = load_text(roots(request), body.text, origin(request, body.path))
    n = within("samples", body.n, SAMPLES)
    size = within("size", body.size, SAMPLE_SIZES)
    return sample_table(graph, n, within("seed", body.seed, (0, SEED_MAX)), size)


@router.post("/api/graph/preview")
def preview(request: Request, body: PreviewRequest) -> dict[str, Any]:
    """Start rendering a few images of the text's graph in the background; poll /api/graph/preview/ID."""
    folders = roots(request)
    _, anchored = load_text(folders, body.text, origin(request, body.path))
    n, size = within("images", body.n, PREVIEWS), within("size", body.size, PREVIEW_SIZES)
    seed = within("seed", body.seed, (0, SEED_MAX))
    job = jobs.start_preview(request.app.state.jobs, folders.work("previews"), anchored, n, size, seed)
    return job.status()


def _job(request: Request, job_id: str) -> jobs.PreviewJob:
    found: jobs.PreviewJob | None = request.app.state.jobs.get(job_id)
    if found is None:
        raise HTTPException(404, f"no preview {job_id}")
    return found


@router.get("/api/graph/preview/{job_id}")
def preview_status(request: Request, job_id: str) -> dict[str, Any]:
    return _job(request, job_id).status()


@router.post("/api/graph/preview/{job_id}/cancel")
def preview_cancel(request: Request, job_id: str) -> dict[str, Any]:
    job = _job(request, job_id)
    job.cancel()
    return job.status()


@router.post("/api/graph/save")
def save_as(request: Request, body: SaveRequest) -> dict[str, str]:
    """Write the text as a NEW graph file under WORKDIR/graphs (never over an existing file; the opened file
    is never written). It must load: a saved graph is one `feint render` accepts."""
    folders = roots(request)
    name = body.name.strip()
    name = name if name.lower().endswith((".yaml", ".yml")) else name + ".yaml"
    if not NAME.fullmatch(name):
        raise FeintError(f"{name!r}: a file name of letters, digits, '.', '_' and '-', ending in .yaml")
    _, anchored = load_text(folders, body.text, origin(request, body.path))
    target = folders.work("graphs") / name
    try:
        with target.open("x", encoding="utf-8") as out:  # "x": fails if the file exists, even if just made
            out.write(anchored)
    except FileExistsError:
        raise FeintError(f"{target}: exists already; choose another name (nothing is overwritten)") from None
    return {"path": str(target)}
