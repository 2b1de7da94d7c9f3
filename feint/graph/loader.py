"""Read graph files: YAML -> `extends:` chain merged -> pydantic validation -> the channel's graph model.

Errors are `FeintError`s that name the file, the line and the dotted field, e.g.
`my.yaml:14: camera.distance: uniform(-5, 10) can reach -5, below the minimum 0.1`.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError

from feint.channels import DEFAULT_CHANNEL, builtin_graph_names, get_channel
from feint.errors import FeintError
from feint.graph.bottles import BottlesGraph
from feint.graph.distributions import _KINDS
from feint.graph.schema import MarineGraph, check_vocabulary

Graph = MarineGraph | BottlesGraph  # the graph models of the built-in channels (`feint.channels`)
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser, 10x faster, where built
STR_TAG = "tag:yaml.org,2002:str"


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
    except UnicodeDecodeError as err:
        raise FeintError(f"{label}: not a UTF-8 text file (byte {err.start})") from None
    except (OSError, ValueError) as err:  # no permission, a folder on the way, a NUL byte in the name
        why = getattr(err, "strerror", None) or err
        raise FeintError(f"{label}: cannot read the graph file: {why}") from None
    loader = YAML_LOADER(text)
    try:  # what yaml.safe_load does, keeping the node tree for the line numbers of messages
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise FeintError(f"{label}{line}: malformed YAML: {problem}") from None
    finally:
        loader.dispose()
    if data is None:
        raise FeintError(f"{label}: the graph file is empty")
    if not isinstance(data, dict):
        raise FeintError(f"{label}:1: a graph must be a mapping of sections, got {type(data).__name__}")
    _check_tree(node, label, loader)
    return _Source(label, data, node)


def _check_tree(
    node: yaml.Node,
    label: str,
    constructor: yaml.BaseConstructor,
    path: tuple[str, ...] = (),
    inside: tuple[yaml.Node, ...] = (),
) -> None:
    """Refuse a mapping that repeats a key: PyYAML keeps the last one and silently drops the first, so a
    graph would render with half of what its file says. Keys are compared as the values YAML reads them
    as (`1` and `1.0` are one choice), as the mapping they become would. An alias that refers to a node it
    sits in (`a: &x [*x]`) is refused too: the data would have no end."""
    if any(node is outer for outer in inside):
        where = f"{label}:{node.start_mark.line + 1}"
        raise FeintError(f"{where}: {'.'.join(path)}: an alias refers to a mapping or list it is part of")
    inside = (*inside, node)
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_tree(item, label, constructor, (*path, str(i)), inside)
    if not isinstance(node, yaml.MappingNode):
        return
    first: dict[Any, int] = {}
    for key, value in node.value:
        if key.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults`: its keys may be overridden
            continue
        name = key.value if key.tag == STR_TAG else constructor.construct_object(key)
        line = key.start_mark.line + 1
        if name in first:
            problem = f"duplicate key {key.value!r} (first at line {first[name]})"
            raise FeintError(f"{label}:{line}: {'.'.join((*path, key.value))}: {problem}")
        first[name] = line
        _check_tree(value, label, constructor, (*path, key.value), inside)


def _resolve(ref: str, base_dir: Path | None) -> tuple[Path, str]:
    """A graph reference is a built-in name (`marine`) or a path (relative to the referring file)."""
    if ref in builtin_graph_names():
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
    if ref in builtin_graph_names():
        builtin = _read_builtin(ref)
        src = _Source(label, copy.deepcopy(builtin.data), builtin.node)  # the chain changes its data
    else:
        src = _read_yaml(path, label)
    _absolute_model_paths(src.data, path.parent)
    parent = src.data.pop("extends", None)
    if parent is None:
        return [src]
    if not isinstance(parent, str):
        raise FeintError(f"{label}:{_line(src.node, ('extends',))}: extends: expected a graph name or path")
    return [src, *_chain(parent, path.parent, seen + (label,))]


@functools.cache
def _read_builtin(name: str) -> _Source:
    """A built-in graph file, read once: `feint tune` and the tests load graphs extending one by the
    hundred, and reading YAML is most of loading."""
    return _read_yaml(builtin_graph_path(name), f"<builtin:{name}>")


def _absolute_model_paths(data: dict[str, Any], base_dir: Path) -> None:
    """`classes.X.models` folders are relative to the graph file that names them."""
    classes = data.get("classes")
    if not isinstance(classes, dict):
        return
    for spec in classes.values():
        models = spec.get("models") if isinstance(spec, dict) else None
        if isinstance(models, str) and "\0" not in models:  # a NUL byte is no path: left to be not found
            spec["models"] = str((base_dir / models).resolve())


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Override leaves of `base`; a mapping merges key by key, except where either side is a distribution
    (a one-key mapping such as {uniform: [..]}): the override then replaces it whole, so a misspelt
    `{unifrom: [..]}` is reported as it is written, not mixed into the distribution it replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        old = out.get(key)
        if (
            isinstance(value, dict)
            and isinstance(old, dict)
            and not (_is_distribution(value) or _is_distribution(old))
        ):
            out[key] = deep_merge(old, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _is_distribution(value: dict[str, Any]) -> bool:
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
    chain = _chain(ref, Path.cwd() if ref not in builtin_graph_names() else None)
    merged: dict[str, Any] = {}
    for src in reversed(chain):
        merged = deep_merge(merged, src.data)
    return merged, chain


def load_graph(ref: str | Path) -> Graph:
    """Load, merge and validate a graph given by built-in name or file path."""
    merged, chain = load_graph_dict(ref)
    try:
        channel = get_channel(merged.get("channel", DEFAULT_CHANNEL))
    except FeintError as err:
        raise FeintError(f"{chain[0].name}: {err}") from None
    try:
        # A channel's model is one of `Graph` for the built-in channels (a registered one's stands in).
        graph = cast(Graph, channel.model().model_validate(merged))
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
    if first["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling; `feint graph show marine` lists the fields)"
    elif first["type"] == "missing":
        msg = "missing (give it a value, or `extends: marine` to inherit the defaults)"
    elif first["type"] in ("model_type", "dict_type"):  # a section, `classes` or a class as no mapping
        given = "nothing" if first["input"] is None else repr(first["input"])
        msg = f"expected a mapping of fields, got {given}"
    more = len(err.errors()) - 1
    return f"{_where(chain, loc)}: {field}: {msg}" + (f" (and {more} more)" if more else "")


def _where(chain: list[_Source], loc: tuple[Any, ...]) -> str:
    """`file:line` of the file the value at `loc` came from: the first of the chain (child first) that
    has the longest part of `loc`; just the child's name if none has any."""
    for depth in range(len(loc), 0, -1):
        for src in chain:
            if _has_path(src.data, loc[:depth]):
                line = _line(src.node, loc)
                return f"{src.name}:{line}" if line is not None else src.name
    return chain[0].name


def _has_path(data: Any, loc: tuple[Any, ...]) -> bool:
    for key in loc:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True


def _check_classes(graph: Graph, chain: list[_Source]) -> None:
    """Classes must be ones the asset library can build, unless the user brings models for them, and a
    built-in class's `variant` one its builder knows."""
    known = get_channel(graph.channel).variants()
    for name, spec in graph.classes.items():
        takes_models = "models" in type(spec).model_fields  # a channel whose classes take the user's models
        models = getattr(spec, "models", None)
        if models is None and name not in known:
            own = " (or give `models: FOLDER` with your own 3D models)" if takes_models else ""
            raise FeintError(
                f"{_where(chain, ('classes', name))}: classes.{name}: unknown class; "
                f"built-in classes are {', '.join(known)}{own}"
            )
        if models is not None and not Path(models).is_dir():
            where = _where(chain, ("classes", name, "models"))
            raise FeintError(f"{where}: classes.{name}.models: folder not found: {models}")
        if models is not None:
            from feint.assets.files import list_model_files

            try:
                list_model_files(models)  # what sampling reads: an empty folder fails here, not at render
            except FeintError as err:
                where = _where(chain, ("classes", name, "models"))
                raise FeintError(f"{where}: classes.{name}.models: {err}") from None
        if models is None and spec.variant is not None:
            try:
                check_vocabulary(spec.variant, known[name])
            except ValueError as err:
                where = _where(chain, ("classes", name, "variant"))
                raise FeintError(f"{where}: classes.{name}.variant: {err}") from None
    if not graph.class_names():
        raise FeintError(f"{chain[0].name}: classes: no class has a weight above 0")
