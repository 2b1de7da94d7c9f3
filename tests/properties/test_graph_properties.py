"""Properties of `feint graph validate|sample` on generated graph files.

Graph files start from a built-in graph (its resolved YAML, or an `extends:` stub) and are mutated:
random dotted parameter paths set to random values (numbers with NaN, infinities, huge and negative ones;
strings, booleans, lists, nested mappings, distributions with right and wrong arguments), unknown fields,
class sections with odd weights, duplicate keys, malformed YAML and non-UTF-8 bytes. For every file:

- `validate` and `sample` exit 0, or 2 with one `feint: error: ...` line (never a traceback or exit 1);
- what `validate` accepts, `show` prints and the sampler draws from: `sample` with an in-range seed,
  start and size exits 0;
- a file with a duplicate mapping key is never `ok` (it would silently use one of the two values).
"""

from __future__ import annotations

import copy
import math
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import assume, example, given, note
from hypothesis import strategies as st
from properties_helpers import check_exit, property_settings, run_feint

BUILTINS = ("marine", "bottles", "marine-detect")
KINDS = ("uniform", "loguniform", "normal", "randint", "choice", "bernoulli")
SEED_MAX = 2**32 - 1
SIZE_RANGE = (16, 4096)  # what `feint render --size` takes
SETTINGS = property_settings(240)


@cache
def builtin(name: str) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...], tuple[str, ...]]:
    """A built-in graph: its resolved YAML, its parameters (dotted path, distribution) and its classes."""
    from feint.graph import load_graph

    g = load_graph(name)
    return g.to_yaml(), tuple(g.parameters()), tuple(g.class_names())


# --- values -------------------------------------------------------------------------------------------
ODD_NUMBERS = (
    0,
    1,
    -1,
    0.5,
    -0.5,
    1e-300,
    1e308,
    -1e308,
    2**63,
    2**64 + 1,
    -(2**70),
    10**30,
    math.nan,
    math.inf,
    -math.inf,
)
numbers = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1000, 1000),
)
texts = st.one_of(
    st.sampled_from(["", "port", "open_sea", "harbour", "oak", "nan", "1e3", "yes", "~"]), st.text(max_size=6)
)
scalars = st.one_of(numbers, texts, st.booleans(), st.none())


def dist_args(kind: str) -> st.SearchStrategy[Any]:
    """Arguments for a distribution of `kind`: mostly its own shape, sometimes anything."""
    pair = st.lists(numbers, min_size=2, max_size=2)
    own = {
        "uniform": pair,
        "loguniform": pair,
        "randint": st.one_of(pair, st.lists(st.integers(-(2**70), 2**70), min_size=2, max_size=2)),
        "normal": st.one_of(
            pair,
            st.fixed_dictionaries(
                {"mean": numbers, "std": numbers},
                optional={"low": numbers, "high": numbers, "median": numbers},
            ),
        ),
        "choice": st.one_of(
            st.lists(scalars, max_size=4),
            st.dictionaries(st.one_of(texts, st.integers(-3, 3)), numbers, max_size=4),
            st.fixed_dictionaries(
                {"values": st.lists(scalars, max_size=3), "weights": st.lists(numbers, max_size=3)}
            ),
        ),
        "bernoulli": st.one_of(numbers, st.floats(0, 1)),
    }[kind]
    return st.one_of(own, own, own, scalars, st.lists(scalars, max_size=3))


distributions = st.sampled_from(KINDS).flatmap(lambda k: dist_args(k).map(lambda a: {k: a}))
wild_values = st.recursive(
    st.one_of(scalars, distributions),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(texts, st.sampled_from(KINDS)), inner, max_size=3),
    ),
    max_leaves=6,
)


def near_valid(dist: Any) -> st.SearchStrategy[Any]:
    """A value of the same kind as `dist` inside its present support: usually a valid graph."""
    from feint.graph.distributions import Bernoulli, Choice, Constant, LogUniform, Normal, RandInt, Uniform

    if isinstance(dist, Uniform | LogUniform):
        lo, hi = dist.low, dist.high
        kind = "uniform" if isinstance(dist, Uniform) else "loguniform"
        return st.lists(st.floats(lo, hi), min_size=2, max_size=2).map(lambda v: {kind: sorted(v)})
    if isinstance(dist, RandInt):
        return st.lists(st.integers(dist.low, dist.high), min_size=2, max_size=2).map(
            lambda v: {"randint": sorted(v)}
        )
    if isinstance(dist, Normal):
        return st.floats(0, 3).map(lambda s: {"normal": {**_normal_dict(dist), "std": s * dist.std}})
    if isinstance(dist, Choice):
        n = len(dist.values)
        return (
            st.lists(st.floats(0, 5), min_size=n, max_size=n)
            .filter(lambda w: sum(w) > 0)
            .map(lambda w: {"choice": {"values": list(dist.values), "weights": w}})
        )
    if isinstance(dist, Bernoulli):
        return st.floats(0, 1).map(lambda p: {"bernoulli": p})
    if isinstance(dist, Constant):
        return st.just(dist.value)
    return st.just(dist.to_yaml())


def _normal_dict(dist: Any) -> dict[str, Any]:
    d = {"mean": dist.mean, "std": dist.std}
    if dist.low is not None:
        d["low"] = dist.low
    if dist.high is not None:
        d["high"] = dist.high
    return d


def oddly(value: Any) -> st.SearchStrategy[Any]:
    """`value` with one of its numbers (or its weights) replaced by an odd number."""
    slots: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in list(items):
            if isinstance(child, int | float) and not isinstance(child, bool):
                slots.append((node, key))
            walk(child)

    value = copy.deepcopy(value)
    walk(value)
    if not slots:
        return st.just(value)

    def put(choice: tuple[int, Any]) -> Any:
        node, key = slots[choice[0] % len(slots)]
        node[key] = choice[1]
        return value

    return st.tuples(st.integers(0, 10), st.sampled_from(ODD_NUMBERS)).map(put)


# --- graph files --------------------------------------------------------------------------------------
def set_dotted(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = data
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[leaf] = value


@st.composite
def mutations(draw: st.DrawFn, base: str) -> tuple[str, Any]:
    """One (dotted path, value) change of graph `base`."""
    _, params, classes = builtin(base)
    names = [p for p, _ in params if not p.startswith("classes.")]
    kind = draw(
        st.sampled_from(
            [
                "param-near",
                "param-near",
                "param-odd",
                "param-odd",
                "param-wild",
                "class-weight",
                "class-override",
                "class-field",
                "unknown",
                "section",
                "top",
            ]
        )
    )
    if kind in ("param-near", "param-odd"):
        path, dist = draw(st.sampled_from([(p, d) for p, d in params if not p.startswith("classes.")]))
        value = draw(near_valid(dist))
        if kind == "param-odd":  # one number of a near-valid value made odd: NaN, an infinity, huge...
            value = draw(oddly(value))
        return path, value
    if kind == "param-wild":
        return draw(st.sampled_from(names)), draw(wild_values)
    cls = draw(st.one_of(st.sampled_from(classes), st.sampled_from(["warship", "ufo", "", "1"])))
    if kind == "class-weight":
        weight = draw(st.one_of(numbers, st.sampled_from([0, 0.0, -1, 1e-12, math.inf, "heavy", None])))
        return f"classes.{cls}.weight", weight
    if kind == "class-override":
        path, dist = draw(st.sampled_from([(p, d) for p, d in params if not p.startswith("classes.")]))
        value = draw(st.one_of(near_valid(dist), wild_values))
        return f"classes.{cls}.overrides.{path}", value
    if kind == "class-field":
        field = draw(st.sampled_from(["variant", "models", "length", "overrides", "colour", "weight"]))
        return f"classes.{cls}.{field}", draw(st.one_of(wild_values, st.sampled_from(["/nonexistent", "."])))
    if kind == "unknown":
        section = draw(st.sampled_from(sorted({p.split(".")[0] for p in names})))
        return f"{section}.{draw(st.sampled_from(['zoom', 'colour', 'fill_', 'Fill']))}", draw(scalars)
    if kind == "section":  # a whole section replaced
        section = draw(st.sampled_from(sorted({p.split(".")[0] for p in names}) + ["classes"]))
        return section, draw(st.one_of(scalars, st.lists(scalars, max_size=2), st.just({})))
    top = draw(st.sampled_from(["channel", "name", "description", "bogus", "extends"]))
    return top, draw(
        st.one_of(
            st.sampled_from(
                ["marine", "bottles", "marine-detect", "lego", "graph.yaml", "/nonexistent.yaml"]
            ),
            scalars,
        )
    )


@st.composite
def graph_files(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    """The bytes of a graph file, and what went into it (for the report of a failing example)."""
    base = draw(st.sampled_from(BUILTINS))
    full = draw(st.booleans())
    data: dict[str, Any] = copy.deepcopy(builtin(base)[0]) if full else {"extends": base}
    changes = draw(st.lists(mutations(base), max_size=4))
    for path, value in changes:
        set_dotted(data, path, value)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    damage = draw(
        st.sampled_from(
            ["none"] * 6
            + ["duplicate", "duplicate-top", "truncate", "garbage", "non-utf8", "empty", "tab", "list", "bom"]
        )
    )
    raw = text.encode()
    if damage == "duplicate":  # a key repeated inside a section, with another value
        lines = text.splitlines()
        indented = [
            i
            for i, ln in enumerate(lines)
            if ln.startswith("  ")
            and not ln.startswith("   ")
            and ln.strip().endswith(tuple("0123456789eu"))
            and ": " in ln
        ]
        if indented:
            i = draw(st.sampled_from(indented))
            key = lines[i].split(":")[0]
            lines.insert(i + 1, f"{key}: {draw(st.sampled_from(['0.5', '1', 'true', 'port']))}")
            raw = ("\n".join(lines) + "\n").encode()
        else:
            damage = "none"
    elif damage == "duplicate-top":
        raw = (text + ("extends: marine\n" if not full else "name: twice\n")).encode()
        if "extends" not in data and not full:
            damage = "none"
    elif damage == "truncate":
        raw = raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    elif damage == "garbage":
        at = draw(st.integers(0, len(raw)))
        raw = (
            raw[:at]
            + draw(
                st.sampled_from(
                    [
                        b"{",
                        b"]",
                        b": :",
                        b"\n  - x\n",
                        b"&a *b",
                        b"\t",
                        b"'",
                        b'"',
                        b"!!python/tuple [1]",
                        b"%YAML 9\n",
                    ]
                )
            )
            + raw[at:]
        )
    elif damage == "non-utf8":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xfe\xfa", b"\xc3", b"\x80abc"])) + raw[at:]
    elif damage == "empty":
        raw = draw(st.sampled_from([b"", b"\n", b"# only a comment\n", b"~\n", b"null\n"]))
    elif damage == "tab":
        raw = raw.replace(b"  ", b"\t", 1)
    elif damage == "list":
        raw = b"- extends: marine\n"
    elif damage == "bom":
        raw = b"\xef\xbb\xbf" + raw
    return raw, {"base": base, "full": full, "changes": changes, "damage": damage}


seeds = st.one_of(
    st.integers(0, SEED_MAX),
    st.integers(0, 9),
    st.integers(0, SEED_MAX),
    st.integers(-(2**70), 2**70),
    st.sampled_from([-1, SEED_MAX, SEED_MAX + 1]),
)
starts = st.one_of(
    st.integers(0, 10**6),
    st.integers(0, 9),
    st.integers(0, 2**70),
    st.integers(-(2**70), 2**70),
    st.sampled_from([-1, 2**63]),
)
sizes = st.one_of(
    st.integers(*SIZE_RANGE),
    st.sampled_from([16, 160, 4096]),
    st.integers(*SIZE_RANGE),
    st.integers(-(10**6), 10**6),
    st.sampled_from([0, 1, 15, 4097]),
)


# Known bug of feint/graph/loader.py (reported, not ours to fix): an `extends:` value holding a newline
# (this file: `extends` is "marine\n- x") is named as it is in `...: graph file not found`, so the error
# takes two lines. Tolerated for exactly this file until it is fixed; every other file must pass.
EXTENDS_WITH_NEWLINE = b"extends: marine\n\n  - x\n"


@SETTINGS
@example(
    graph=(EXTENDS_WITH_NEWLINE, {"base": "marine", "full": False, "changes": [], "damage": "garbage"}),
    seed=0,
    start=0,
    size=160,
)
@given(graph=graph_files(), seed=seeds, start=starts, size=sizes)
def test_graph_validate_and_sample(
    graph: tuple[bytes, dict[str, Any]], seed: int, start: int, size: int
) -> None:
    raw, how = graph
    note(f"graph made of {how}\n--- file ---\n{raw.decode(errors='replace')}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "graph.yaml")
        path.write_bytes(raw)

        code, out, err = run_feint("graph", "validate", path)
        if raw == EXTENDS_WITH_NEWLINE and code == 2 and "\n- x: graph file not found" in err:
            return  # the known bug above
        check_exit(code, out, err, ("graph", "validate", path))
        valid = code == 0
        if valid:
            assert out.startswith(f"ok: {path} "), out
            assert how["damage"] not in ("duplicate", "duplicate-top"), f"a duplicate key was accepted: {out}"
            code, out, err = run_feint("graph", "show", path)
            check_exit(code, out, err, ("graph", "show", path))
            assert code == 0, f"validate said ok, but show failed: {err}"

        args = ("graph", "sample", path, "-n", 2, "--seed", seed, "--start", start, "--size", size)
        code, out, err = run_feint(*args)
        check_exit(code, out, err, args)
        in_range = 0 <= seed <= SEED_MAX and start >= 0 and SIZE_RANGE[0] <= size <= SIZE_RANGE[1]
        if valid and in_range:
            assert code == 0, f"validate said ok, but sample failed: {err}"
        if code == 0:
            assert out.count("\n{") + out.startswith("{") == 2, out


@property_settings(60)
@given(
    seed=seeds,
    start=starts,
    size=sizes,
    name=st.sampled_from(BUILTINS),
    n=st.one_of(st.integers(-3, 3), st.sampled_from([2**40, -(2**40)])),
)
def test_builtin_sample_options(name: str, seed: int, start: int, size: int, n: int) -> None:
    """The option values alone: a built-in graph, random -n/--seed/--start/--size."""
    if n > 3:  # a huge -n would print for hours: only its refusal is cheap to test
        assume(not (0 <= seed <= SEED_MAX and start >= 0 and SIZE_RANGE[0] <= size <= SIZE_RANGE[1]))
    args = ("graph", "sample", name, "-n", n, "--seed", seed, "--start", start, "--size", size)
    code, out, err = run_feint(*args)
    check_exit(code, out, err, args)
    if 0 <= seed <= SEED_MAX and start >= 0 and SIZE_RANGE[0] <= size <= SIZE_RANGE[1] and 1 <= n <= 3:
        assert code == 0, err
