"""Read graph files: YAML -> `extends:` chain merged -> pydantic validation -> the channel's graph model.

Errors are `FeintError`s that name the file, the line and the dotted field, e.g.
`my.yaml:14: camera.distance: uniform(-5, 10) can reach -5, below the minimum 0.1`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from feint.errors import FeintError
from feint.graph.bottles import BottlesGraph
from feint.graph.schema import MarineGraph

Graph = MarineGraph | BottlesGraph
BUILTIN_GRAPHS = ("marine", "marine-detect", "bottles")
GRAPH_MODELS: dict[str, type[Graph]] = {"marine": MarineGraph, "bottles": BottlesGraph}


@dataclass
class _Source:
    """One file of an `extends:` chain: its name for messages, its data and its YAML node tree."""

    name: str
    data: dict[str, Any]
    node: yaml.Node | None


def builtin_graph_path(name: str) -> Path:
    return Path(str(resources.files("feint.graph") / "builtin" / f"{name}.yaml"))


def _read_yaml(path: Path, label: str) -> _Source:
    if path.is_dir():
        raise FeintError(f"{label}: is a folder, expected a graph YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FeintError(f"{label}: graph file not found") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise FeintError(f"{label}{line}: malformed YAML: {problem}") from None
    if data is None:
        raise FeintError(f"{label}: the graph file is empty")
    if not isinstance(data, dict):
        raise FeintError(f"{label}:1: a graph must be a mapping of sections, got {type(data).__name__}")
    return _Source(label, data, node)


def _resolve(ref: str, base_dir: Path | None) -> tuple[Path, str]:
    """A graph reference is a built-in name (`marine`) or a path (relative to the referring file)."""
    if ref in BUILTIN_GRAPHS:
        return builtin_graph_path(ref), f"<builtin:{ref}>"
    path = Path(ref)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path, str(path)


def _chain(ref: str, base_dir: Path | None, seen: tuple[str, ...] = ()) -> list[_Source]:
    """The file and the files it extends, child first."""
    path, label = _resolve(ref, base_dir)
    if label in seen:
        raise FeintError(f"{label}: `extends` loops back on itself ({' -> '.join(seen + (label,))})")
    src = _read_yaml(path, label)
    _absolute_model_paths(src.data, path.parent)
    parent = src.data.pop("extends", None)
    if parent is None:
        return [src]
    if not isinstance(parent, str):
        raise FeintError(f"{label}:{_line(src.node, ('extends',))}: extends: expected a graph name or path")
    return [src, *_chain(parent, path.parent, seen + (label,))]


def _absolute_model_paths(data: dict[str, Any], base_dir: Path) -> None:
    """`classes.X.models` folders are relative to the graph file that names them."""
    classes = data.get("classes")
    if not isinstance(classes, dict):
        return
    for spec in classes.values():
        if isinstance(spec, dict) and isinstance(spec.get("models"), str):
            spec["models"] = str((base_dir / spec["models"]).resolve())


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Override leaves of `base`; a mapping merges key by key, except that a distribution
    (a one-key mapping such as {uniform: [..]}) replaces whatever was there."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and not _is_distribution(value):
            out[key] = deep_merge(old, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _is_distribution(value: dict[str, Any]) -> bool:
    from feint.graph.distributions import _KINDS

    return len(value) == 1 and next(iter(value)) in _KINDS


def _line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the deepest YAML node along `loc` that exists in this file."""
    found = None
    for key in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        for k, v in node.value:
            if k.value == str(key):
                found, node = k.start_mark.line + 1, v
                break
        else:
            break
    return found


def load_graph_dict(ref: str | Path) -> tuple[dict[str, Any], list[_Source]]:
    """The merged (not yet validated) graph data and the chain of sources it came from."""
    ref = str(ref)
    chain = _chain(ref, Path.cwd() if ref not in BUILTIN_GRAPHS else None)
    merged: dict[str, Any] = {}
    for src in reversed(chain):
        merged = deep_merge(merged, src.data)
    return merged, chain


def load_graph(ref: str | Path) -> Graph:
    """Load, merge and validate a graph given by built-in name or file path."""
    merged, chain = load_graph_dict(ref)
    channel = merged.get("channel", "marine")
    model = GRAPH_MODELS.get(channel)
    if model is None:
        raise FeintError(f"{chain[0].name}: unknown channel {channel!r}; known: {', '.join(GRAPH_MODELS)}")
    try:
        graph = model.model_validate(merged)
    except ValidationError as err:
        raise FeintError(_describe(err, chain)) from None
    _check_classes(graph, chain)
    return graph


def _describe(err: ValidationError, chain: list[_Source]) -> str:
    """The first validation error as `file:line: field: message` (+ how many more)."""
    first = err.errors()[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    msg = first["msg"].removeprefix("Value error, ")
    if not loc and ": " in msg:  # a graph-wide check names its field first: `classes.tug.overrides...: why`
        path, msg = msg.split(": ", 1)
        loc = tuple(path.split("."))
    field = ".".join(str(p) for p in loc) or "(top)"
    where = chain[0].name
    for src in chain:
        line = _line(src.node, loc)
        if line is not None and _has_path(src.data, loc[:1]):
            where = f"{src.name}:{line}"
            break
    if first["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling; `feint graph show marine` lists the fields)"
    elif first["type"] == "missing":
        msg = "missing (give it a value, or `extends: marine` to inherit the defaults)"
    more = len(err.errors()) - 1
    return f"{where}: {field}: {msg}" + (f" (and {more} more)" if more else "")


def _has_path(data: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    return (
        all(isinstance(data, dict) and (data := data.get(k, None)) is not None for k in loc) if loc else True
    )


def _builtin_classes(channel: str) -> list[str]:
    if channel == "bottles":
        from feint.assets.bottles import list_bottle_classes

        return list_bottle_classes()
    from feint.assets.ships import list_ship_classes

    return list_ship_classes()


def _check_classes(graph: Graph, chain: list[_Source]) -> None:
    """Classes must be ones the asset library can build, unless the user brings models for them."""
    known = _builtin_classes(graph.channel)
    for name, spec in graph.classes.items():
        models = getattr(spec, "models", None)  # only marine classes take the user's models
        if models is None and name not in known:
            line = next((ln for src in chain if (ln := _line(src.node, ("classes", name)))), None)
            where = f"{chain[0].name}:{line}" if line else chain[0].name
            own = " (or give `models: FOLDER` with your own 3D models)" if graph.channel == "marine" else ""
            raise FeintError(
                f"{where}: classes.{name}: unknown class; built-in classes are {', '.join(known)}{own}"
            )
        if models is not None and not Path(models).is_dir():
            raise FeintError(f"{chain[0].name}: classes.{name}.models: folder not found: {models}")
    if not graph.class_names():
        raise FeintError(f"{chain[0].name}: classes: no class has a weight above 0")
