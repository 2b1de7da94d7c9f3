"""Graphs changed in a few places: dotted overrides on a loaded graph, validated, and written back as a
small file that `extends:` the original.

`feint tune` proposes new distributions for some parameters and `feint ablate` switches features off;
both describe the change as `{"camera.fill": {"uniform": [0.8, 1.0]}, "post.crop": False}` and let the
graph schema decide whether the result is a valid graph.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError

from feint.channels import DEFAULT_CHANNEL, builtin_graph_names, get_channel
from feint.errors import FeintError
from feint.graph.distributions import Choice, Distribution
from feint.graph.loader import Graph, deep_merge
from feint.io import write_text_atomic


def nest(dotted: dict[str, Any]) -> dict[str, Any]:
    """`{"a.b": 1, "a.c": 2}` -> `{"a": {"b": 1, "c": 2}}` (the shape of a graph file)."""
    out: dict[str, Any] = {}
    for path, value in dotted.items():
        *parents, leaf = path.split(".")
        node = out
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise FeintError(f"{path}: {key} is given a value of its own as well")
        node[leaf] = value
    return out


def apply_overrides(merged: dict[str, Any], dotted: dict[str, Any]) -> dict[str, Any]:
    """The merged graph data with `dotted` overrides in place (a distribution replaces the old one)."""
    return deep_merge(merged, nest(dotted))


def validate_graph(merged: dict[str, Any]) -> Graph:
    """Validate merged graph data; a `FeintError` with the first field at fault if it is no valid graph."""
    model = get_channel(merged.get("channel", DEFAULT_CHANNEL)).model()
    try:
        return cast(Graph, model.model_validate(merged))  # a built-in channel's model is one of `Graph`
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-"))
        msg = first["msg"].removeprefix("Value error, ")
        raise FeintError(f"{field}: {msg}" if field else msg) from None


def lookup(graph: Graph, path: str) -> Distribution:
    """The distribution at dotted `path`; a `KeyError` if the graph has no such parameter."""
    return dict(graph.parameters())[path]


def same(a: Distribution, b: Distribution, rel: float = 1e-6) -> bool:
    """Equal distributions, up to float noise (choice weights compared after normalising)."""
    if isinstance(a, Choice) and isinstance(b, Choice):
        if a.values != b.values:
            return False
        sa, sb = sum(a.weights), sum(b.weights)
        return all(abs(x / sa - y / sb) <= 1e-3 for x, y in zip(a.weights, b.weights, strict=True))
    if type(a) is not type(b):
        return False
    da, db = a.model_dump(), b.model_dump()
    for key, x in da.items():
        y = db[key]
        if isinstance(x, float) and isinstance(y, float):
            if abs(x - y) > rel * max(abs(x), abs(y), 1e-12):
                return False
        elif x != y:
            return False
    return True


def graph_ref(ref: str, folder: Path) -> str:
    """How a file in `folder` names graph `ref` in its `extends:` (built-in name, or a relative path)."""
    if ref in builtin_graph_names():
        return ref
    return os.path.relpath(Path(ref).resolve(), folder.resolve())


def write_extending_graph(path: Path, base: str, dotted: dict[str, Any], header: str = "") -> None:
    """Write a graph file that `extends:` graph `base` and sets only `dotted`."""
    body = {"extends": graph_ref(base, path.parent), **nest(dotted)}
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    text = yaml.safe_dump(body, sort_keys=False, width=120, default_flow_style=None)  # [a, b] on one line
    write_text_atomic(path, comment + text)
