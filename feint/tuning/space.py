"""The search space of `feint tune`: which graph parameters a trial may change, and within what.

A space file maps a parameter's dotted path to how it is tuned:

    camera.fill: {range: true}              # move and resize a uniform/loguniform/randint range,
    camera.focal_length: {range: [20, 1000]}  # ... within the given bounds (default: one range width
                                            #     beyond each end, inside the field's allowed values)
    camera.elevation: {weights: true}       # re-weight the values of a choice (values stay as they are)
    post.crop: {probability: true}          # the p of a bernoulli (or of a true/false constant)

A `range` is tuned as a centre and a width (in log space for a loguniform), not as two free ends: the
width has a floor of a quarter of the bounds' span (or the current width, if that is narrower), so a trial
cannot collapse a randomised parameter to a near-constant that wins a small noisy batch by luck (seen in
the first tuning run: camera.fill 1.044-1.047). A normal distribution's `range` moves its mean (within the
bounds) and scales its std (x0.25 .. x2). The bounds must hold the graph's current distribution: the
first trial scores the graph as it is.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from feint.errors import FeintError
from feint.graph.distributions import (
    Bernoulli,
    Choice,
    Constant,
    Distribution,
    LogUniform,
    Normal,
    RandInt,
    Uniform,
)
from feint.graph.loader import Graph
from feint.graph.schema import Bounds, Section, bounds_of

MIN_WIDTH = 0.25  # the narrowest a tuned range may become, as a share of its bounds' span


class SpaceEntry(BaseModel):
    """One line of a space file: exactly one of `range`, `weights`, `probability`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    range: bool | tuple[float, float] | None = None
    weights: bool | None = None
    probability: bool | tuple[float, float] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SpaceEntry:
        given = [k for k in ("range", "weights", "probability") if getattr(self, k) not in (None, False)]
        if len(given) != 1:
            raise ValueError("give exactly one of `range`, `weights` or `probability`")
        for key in ("range", "probability"):
            value = getattr(self, key)
            if isinstance(value, tuple) and value[0] > value[1]:
                raise ValueError(f"{key} [{value[0]:g}, {value[1]:g}]: the low end is above the high end")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("range", "weights", "probability") if getattr(self, k) not in (None, False))

    @property
    def bounds(self) -> tuple[float, float] | None:
        value = getattr(self, self.kind)
        return value if isinstance(value, tuple) else None


def _round(x: float, lo: float, hi: float, log: bool = False) -> float:
    """About three significant digits of the search interval: readable graph files, same trial graph."""
    scale = abs(x) if log else hi - lo
    if scale <= 0:
        return float(x)
    return round(float(x), max(0, 3 - math.floor(math.log10(scale))))


@dataclass(frozen=True)
class Knob:
    """One tuned parameter: its Optuna parameters, the graph's current values of them, and the YAML
    distribution a trial's values stand for."""

    path: str
    kind: str
    base: Distribution
    low: float = 0.0  # outer bounds of a range (of the mean, for a normal) or of a probability
    high: float = 1.0

    def distributions(self) -> dict[str, Any]:
        from optuna.distributions import FloatDistribution

        b = self.base
        if self.kind == "weights":
            assert isinstance(b, Choice)
            return {f"{self.path}={v}": FloatDistribution(0.0, 1.0) for v in b.values}
        if self.kind == "probability":
            return {f"{self.path}.p": FloatDistribution(self.low, self.high)}
        if isinstance(b, Normal):
            return {
                f"{self.path}.mean": FloatDistribution(self.low, self.high),
                f"{self.path}.std": FloatDistribution(b.std / 4, b.std * 2, log=True),
            }
        lo, hi = self._span(self.low), self._span(self.high)
        return {
            f"{self.path}.centre": FloatDistribution(lo, hi),
            f"{self.path}.width": FloatDistribution(self._min_width(), hi - lo),
        }

    def _span(self, x: float) -> float:
        """A range end on the scale the centre and width are tuned on (log for a loguniform)."""
        return math.log(x) if isinstance(self.base, LogUniform) else float(x)

    def _min_width(self) -> float:
        current = self._span(self.base.high) - self._span(self.base.low)  # type: ignore[attr-defined]
        return min(current, MIN_WIDTH * (self._span(self.high) - self._span(self.low)))

    def _ends(self, params: dict[str, Any]) -> tuple[float, float]:
        """The range of a trial's centre and width, shifted inside the bounds rather than clipped (so the
        width is kept), back on the parameter's own scale."""
        lo, hi = self._span(self.low), self._span(self.high)
        width = min(float(params[f"{self.path}.width"]), hi - lo)
        start = min(max(float(params[f"{self.path}.centre"]) - width / 2, lo), hi - width)
        ends = (start, start + width)
        return tuple(math.exp(e) for e in ends) if isinstance(self.base, LogUniform) else ends  # type: ignore[return-value]

    def base_params(self) -> dict[str, float]:
        b = self.base
        if self.kind == "weights":
            assert isinstance(b, Choice)
            top = max(b.weights)
            return {f"{self.path}={v}": w / top for v, w in zip(b.values, b.weights, strict=True)}
        if self.kind == "probability":
            p = b.p if isinstance(b, Bernoulli) else float(bool(b.value))  # type: ignore[attr-defined]
            return {f"{self.path}.p": p}
        if isinstance(b, Normal):
            return {f"{self.path}.mean": b.mean, f"{self.path}.std": b.std}
        lo, hi = self._span(b.low), self._span(b.high)  # type: ignore[attr-defined]
        return {f"{self.path}.centre": (lo + hi) / 2, f"{self.path}.width": hi - lo}

    def value(self, params: dict[str, Any]) -> Any:
        """The YAML distribution for a trial's values of this knob's parameters."""
        b = self.base
        if self.kind == "weights":
            assert isinstance(b, Choice)
            raw = [float(params[f"{self.path}={v}"]) for v in b.values]
            if sum(raw) <= 0:
                raise FeintError(f"{self.path}: every weight is 0")
            weights = [round(w / sum(raw), 3) for w in raw]
            if all(isinstance(v, str) for v in b.values):
                return {"choice": dict(zip(b.values, weights, strict=True))}
            return {"choice": {"values": list(b.values), "weights": weights}}
        if self.kind == "probability":
            return {"bernoulli": round(float(params[f"{self.path}.p"]), 3)}
        if isinstance(b, Normal):
            body: dict[str, float] = {
                "mean": _round(params[f"{self.path}.mean"], self.low, self.high),
                "std": _round(params[f"{self.path}.std"], 0, 0, log=True),
            }
            body.update({k: v for k, v in (("low", b.low), ("high", b.high)) if v is not None})
            return {"normal": body}
        lo, hi = self._ends(params)
        if isinstance(b, RandInt):
            return {"randint": [round(lo), round(hi)]}
        log = isinstance(b, LogUniform)
        ends = [_round(lo, self.low, self.high, log), _round(hi, self.low, self.high, log)]
        return {"loguniform" if log else "uniform": ends}


def _default_range(base: Distribution, field: Bounds | None) -> tuple[float, float]:
    """One range width beyond each end (a factor of the range for loguniform), inside the field's bounds."""
    if isinstance(base, Normal):
        lo, hi = base.mean - 2 * base.std, base.mean + 2 * base.std
        lo = lo if base.low is None else max(lo, base.low)
        hi = hi if base.high is None else min(hi, base.high)
    elif isinstance(base, LogUniform):
        ratio = base.high / base.low if base.high > base.low else 2.0
        lo, hi = base.low / ratio, base.high * ratio
    else:
        width = (base.high - base.low) or max(abs(base.low), 1.0) / 2  # type: ignore[attr-defined]
        lo, hi = base.low - width, base.high + width  # type: ignore[attr-defined]
    if field is not None and field.low is not None:
        lo = max(lo, field.low)  # a loguniform's lo is above 0 already, and stays so
    if field is not None and field.high is not None:
        hi = min(hi, field.high)
    if isinstance(base, RandInt):
        lo, hi = math.ceil(lo), math.floor(hi)
    return lo, hi


def make_knob(path: str, entry: SpaceEntry, base: Distribution, field: Bounds | None) -> Knob:
    """Check that `entry` fits the parameter's distribution and the field's bounds (ValueError: why not)."""
    numeric = (Uniform, LogUniform, RandInt, Normal)
    if entry.kind == "weights":
        if not isinstance(base, Choice) or len(base.values) < 2:
            raise ValueError(f"`weights` needs a choice of two or more values, it is {base.describe()}")
        return Knob(path, "weights", base)
    if entry.kind == "probability":
        if not (isinstance(base, Bernoulli) or (isinstance(base, Constant) and isinstance(base.value, bool))):
            raise ValueError(
                f"`probability` needs a bernoulli or a true/false value, it is {base.describe()}"
            )
        lo, hi = entry.bounds or (0.0, 1.0)
        p = base.p if isinstance(base, Bernoulli) else float(base.value)
        if not 0 <= lo <= p <= hi <= 1:
            raise ValueError(
                f"probability [{lo:g}, {hi:g}] must lie in [0, 1] and hold the current p = {p:g}"
            )
        return Knob(path, "probability", base, lo, hi)
    if not isinstance(base, numeric):
        hint = "; use `weights: true`" if isinstance(base, Choice) else ""
        kinds = "a uniform, loguniform, randint or normal distribution"
        raise ValueError(f"`range` needs {kinds}, it is {base.describe()}{hint}")
    if isinstance(base, Normal) and base.std <= 0:
        raise ValueError(f"`range` on a normal needs std > 0, it is {base.describe()}")
    lo, hi = entry.bounds or _default_range(base, field)
    inner = (base.mean, base.mean) if isinstance(base, Normal) else (base.low, base.high)
    if not lo <= inner[0] <= inner[1] <= hi:
        what = "mean" if isinstance(base, Normal) else "range"
        raise ValueError(
            f"range [{lo:g}, {hi:g}] must hold the current {what} ({base.describe()}): "
            "the first trial scores the graph as it is"
        )
    if field is not None and (
        (field.low is not None and lo < field.low) or (field.high is not None and hi > field.high)
    ):
        raise ValueError(f"range [{lo:g}, {hi:g}] leaves the allowed [{field.low}, {field.high}]")
    if isinstance(base, LogUniform) and lo <= 0:
        raise ValueError(f"range [{lo:g}, {hi:g}] of a loguniform must stay above 0")
    return Knob(path, "range", base, float(lo), float(hi))


def _field_bounds(graph: Graph, path: str) -> Bounds | None:
    parts = path.split(".")
    if len(parts) == 5 and parts[0] == "classes" and parts[2] == "overrides":  # a class's own draw
        parts = parts[3:]
    *parents, leaf = parts
    node: Any = graph
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else getattr(node, key, None)
    return bounds_of(node, leaf) if isinstance(node, Section) else None


@dataclass(frozen=True)
class SearchSpace:
    knobs: tuple[Knob, ...]

    def distributions(self) -> dict[str, Any]:
        return {name: d for k in self.knobs for name, d in k.distributions().items()}

    def base_params(self) -> dict[str, float]:
        return {name: v for k in self.knobs for name, v in k.base_params().items()}

    def overrides(self, params: dict[str, Any]) -> dict[str, Any]:
        """Dotted graph overrides for a trial's parameter values (FeintError if they make no distribution)."""
        return {k.path: k.value(params) for k in self.knobs}

    def trial_overrides(self, trial: Any) -> dict[str, Any]:
        """An Optuna trial's overrides: none for the base trial (the graph as it is)."""
        if trial.user_attrs.get("base"):
            return {}
        return self.overrides(trial.params)

    def to_yaml(self) -> dict[str, Any]:
        """The resolved space (bounds filled in), as a space file would say it."""
        out: dict[str, Any] = {}
        for k in self.knobs:
            out[k.path] = {"weights": True} if k.kind == "weights" else {k.kind: [k.low, k.high]}
        return out


def default_space_path(channel: str) -> Path:
    path = Path(str(resources.files("feint.tuning") / "spaces" / f"{channel}.yaml"))
    if not path.is_file():
        raise FeintError(f"no default search space for the {channel} channel: give one with --space FILE")
    return path


def load_space(path: Path | None, graph: Graph) -> SearchSpace:
    """Read a space file (default: the channel's built-in one) and check it against `graph`."""
    path = path or default_space_path(graph.channel)
    label = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise FeintError(f"{label}: search space file not found") from None
    except yaml.YAMLError as err:
        raise FeintError(f"{label}: malformed YAML: {str(err).splitlines()[0]}") from None
    return build_space(data, graph, label)


def build_space(data: Any, graph: Graph, label: str) -> SearchSpace:
    """The space described by `data` (a space file's content), checked against `graph`; errors name
    `label` and the parameter."""
    if not isinstance(data, dict) or not data:
        raise FeintError(
            f"{label}: a search space is a mapping `parameter.path: {{range: true}}`, one a line"
        )
    parameters = dict(graph.parameters())
    knobs = []
    for key, value in data.items():
        name = str(key)
        if name not in parameters:
            close = difflib.get_close_matches(name, parameters, n=1)
            hint = f" (did you mean {close[0]}?)" if close else " (`feint graph show GRAPH` lists them)"
            raise FeintError(f"{label}: {name}: not a parameter of graph {graph.name!r}{hint}")
        if not isinstance(value, dict):
            raise FeintError(f"{label}: {name}: expected a mapping such as {{range: true}}, got {value!r}")
        try:
            entry = SpaceEntry.model_validate(value)
            knobs.append(make_knob(name, entry, parameters[name], _field_bounds(graph, name)))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            msg = first["msg"].removeprefix("Value error, ")
            if first["type"] == "extra_forbidden":
                msg = f"unknown key {where!r}; give one of range: true|[lo, hi], weights: true, probability"
            raise FeintError(f"{label}: {name}: {msg}") from None
        except ValueError as err:
            raise FeintError(f"{label}: {name}: {err}") from None
    return SearchSpace(tuple(knobs))
