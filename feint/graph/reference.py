"""The graph reference (docs/graph-reference.md): every field of every channel's graph schema, with its type,
its bounds, the distribution the channel's built-in graph gives it and what it means.

Generated from the schema itself (the pydantic models, their `Bounds` and their attribute docstrings), so
the page cannot drift from the code: `feint graph reference -o docs/graph-reference.md` writes it and a test
fails when the committed page differs from what this module makes.
"""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from feint.channels import channel_names, get_channel
from feint.graph.distributions import Constant, Distribution
from feint.graph.loader import load_graph
from feint.graph.schema import Bounds, Section, bounds_of

HEADER = """# Graph reference

Every field of the graph files of each channel, generated from the schema by
`feint graph reference -o docs/graph-reference.md` (do not edit by hand). *Built-in* is what the
channel's first built-in graph draws; a graph file that `extends:` it changes only the fields it names.
Every number field takes a constant or a distribution (`{uniform: [a, b]}`, `{loguniform: [a, b]}`,
`{normal: [mean, std]}`, `{normal: {mean, std, low, high}}`, `{randint: [a, b]}`, `{choice: [x, y]}`,
`{choice: {x: 0.7, y: 0.3}}`, `{bernoulli: p}`), and the whole range a distribution can draw must lie
within the bounds. How graph files work: [rendering](rendering.md).
"""


def graph_reference() -> str:
    """The Markdown page: one part per registered channel, one table per section of its graph."""
    parts = [HEADER]
    for name in channel_names():
        channel = get_channel(name)
        if not channel.builtin_graphs:
            continue
        graph = load_graph(channel.builtin_graphs[0])
        model = channel.model()
        parts.append(f"\n## Channel `{name}` (built-in graph `{channel.builtin_graphs[0]}`)\n")
        parts.append(_table("top level", model, graph, ""))
        for field_name, info in model.model_fields.items():
            section_type = _section_type(info)
            if section_type is None:
                continue
            value = getattr(graph, field_name)
            if field_name == "classes":
                example = next(iter(value))
                title = f"`classes.NAME` (one per class; built-in: `{example}`)"
                parts.append(_table(title, section_type, value[example], "classes.NAME."))
            else:
                parts.append(_table(f"`{field_name}`", section_type, value, f"{field_name}."))
    return "\n".join(parts)


def _section_type(info: FieldInfo) -> type[Section] | None:
    """The Section a field holds (directly, or as the values of a `dict[str, Section]`), if any."""
    annotation = info.annotation
    candidates = [annotation, *get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, Section):
            return candidate
    return None


def _table(title: str, model: type[BaseModel], values: Any, prefix: str) -> str:
    rows = ["| field | type | bounds | built-in | meaning |", "|---|---|---|---|---|"]
    for name, info in model.model_fields.items():
        if _section_type(info) is not None:
            continue  # a nested section has a table of its own
        kind, bounds = _kind_and_bounds(model, name, info)
        built_in = _show_value(getattr(values, name, None))
        meaning = _one_paragraph(info.description or "").replace("|", "\\|")
        rows.append(f"| `{prefix}{name}` | {kind} | {bounds} | {built_in} | {meaning} |")
    doc = model.__doc__ if model.__doc__ and model.__doc__ is not Section.__doc__ else ""
    intro = f"\n{_one_paragraph(doc)}\n" if doc and model.__doc__ != BaseModel.__doc__ else ""
    return f"\n### {title}\n{intro}\n" + "\n".join(rows) + "\n"


def _kind_and_bounds(model: type[BaseModel], name: str, info: FieldInfo) -> tuple[str, str]:
    bounds: Bounds | None = None
    if issubclass(model, Section):
        bounds = bounds_of(model.model_construct(), name)
    optional = " (optional)" if _is_optional(info.annotation) else ""
    if bounds is None:
        return _plain_type(info) + optional, _field_limits(info)
    if bounds.kind == "any":
        if bounds.values is None:
            return "name" + optional, ""
        return "one of" + optional, ", ".join(f"`{_yaml_scalar(v)}`" for v in bounds.values)
    kind = "whole number" if bounds.kind == "int" else "number"
    low = "-inf" if bounds.low is None else f"{bounds.low:g}"
    high = "inf" if bounds.high is None else f"{bounds.high:g}"
    return kind + optional, f"{low} .. {high}"


def _is_optional(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def _plain_type(info: FieldInfo) -> str:
    """A readable type for a field that is not a graph parameter (a weight, a name, a folder)."""
    annotation = info.annotation
    args = [a for a in get_args(annotation) if a is not type(None)] if _is_optional(annotation) else []
    inner = args[0] if len(args) == 1 else annotation
    if get_origin(inner) is dict:
        return "mapping"
    if get_origin(inner) is Literal:
        return "fixed"
    names: dict[Any, str] = {float: "number", int: "whole number", str: "text", bool: "true/false"}
    return names.get(inner, str(inner))


def _field_limits(info: FieldInfo) -> str:
    """`ge`/`le` constraints of a plain field (a class weight, a redraw count)."""
    low = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in info.metadata if getattr(m, "le", None) is not None), None)
    if low is None and high is None:
        return ""
    return f"{'-inf' if low is None else f'{low:g}'} .. {'inf' if high is None else f'{high:g}'}"


def _show_value(value: Any) -> str:
    if value is None or value == {}:
        return ""
    if isinstance(value, Constant):
        text = _yaml_scalar(value.value)
    elif isinstance(value, Distribution):
        text = value.describe()
    elif isinstance(value, dict):  # a class's overrides: section -> parameter -> distribution
        text = "; ".join(
            f"{section}.{name}: {_show_value(dist).strip('`')}"
            for section, fields in value.items()
            for name, dist in fields.items()
        )
    elif isinstance(value, str):
        text = value or '""'
    else:
        text = str(value)
    return f"`{text}`".replace("|", "\\|")


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _one_paragraph(doc: str) -> str:
    return " ".join(line.strip() for line in doc.strip().splitlines())
