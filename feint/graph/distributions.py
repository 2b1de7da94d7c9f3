"""Parameter distributions of a scene graph.

In a graph file every parameter is either a constant (`12.5`, `"port"`, `true`) or a one-key mapping
naming a distribution:

    {uniform: [lo, hi]}            {loguniform: [lo, hi]}           {randint: [lo, hi]}  (inclusive)
    {normal: [mean, std]}          {normal: {mean: m, std: s, low: a, high: b}}   (truncated)
    {choice: [a, b, c]}            {choice: {a: 0.7, b: 0.3}}       {bernoulli: p}

Each distribution knows its support so a graph can be checked against a field's bounds before anything
is rendered (a camera distance that could go negative is an error in the file, not a crash at image 9,000).
Numbers must be finite: YAML reads `.nan`, `.inf` and `yes` as a float or a bool, and none of them is a
value a draw can use.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

Scalar = float | int | str | bool
RANDINT_MAX = 2**53


class Distribution(BaseModel):
    """Base class: `sample(rng)` draws one value, `support()` gives (min, max) for numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def sample(self, rng: np.random.Generator) -> Scalar:
        raise NotImplementedError

    def support(self) -> tuple[float, float] | None:
        """Numeric (low, high) the draws can reach; None for non-numeric values."""
        raise NotImplementedError

    def outcomes(self) -> tuple[Scalar, ...] | None:
        """The values this distribution names (a constant's, a choice's, a bernoulli's true and false);
        None for a range, whose draws no list holds."""
        return None

    def to_yaml(self) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def is_number(x: Any) -> bool:
    """A finite int or float: not a bool (YAML's `yes`), not NaN or an infinity, not an int too big for
    a float."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def _pair(v: Any, name: str) -> tuple[float, float]:
    if not isinstance(v, list | tuple) or len(v) != 2 or not all(is_number(x) for x in v):
        raise ValueError(f"{name} takes two finite numbers [low, high], got {v!r}")
    lo, hi = float(v[0]), float(v[1])
    if lo > hi:
        raise ValueError(f"{name} low {lo} is above high {hi}")
    return lo, hi


class Constant(Distribution):
    value: Scalar

    def sample(self, rng: np.random.Generator) -> Scalar:
        return self.value

    def support(self) -> tuple[float, float] | None:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            return None
        return float(self.value), float(self.value)

    def outcomes(self) -> tuple[Scalar, ...]:
        return (self.value,)

    def to_yaml(self) -> Any:
        return self.value

    def describe(self) -> str:
        return repr(self.value)


class Uniform(Distribution):
    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def to_yaml(self) -> Any:
        return {"uniform": [self.low, self.high]}

    def describe(self) -> str:
        return f"uniform({self.low:g}, {self.high:g})"


class LogUniform(Distribution):
    low: float
    high: float

    @model_validator(mode="after")
    def _positive(self) -> LogUniform:
        if self.low <= 0:
            raise ValueError(f"loguniform needs low > 0, got {self.low}")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        x = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return float(min(max(x, self.low), self.high))  # exp(log(x)) can miss x by a rounding step

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def to_yaml(self) -> Any:
        return {"loguniform": [self.low, self.high]}

    def describe(self) -> str:
        return f"loguniform({self.low:g}, {self.high:g})"


class RandInt(Distribution):
    low: int
    high: int

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))

    def support(self) -> tuple[float, float]:
        return float(self.low), float(self.high)

    def to_yaml(self) -> Any:
        return {"randint": [self.low, self.high]}

    def describe(self) -> str:
        return f"randint({self.low}, {self.high})"


class Normal(Distribution):
    """Gaussian, truncated to [low, high] when either is given (by rejection, then clipping)."""

    mean: float
    std: float
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Normal:
        if self.std < 0:
            raise ValueError(f"normal needs std >= 0, got {self.std}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"normal low {self.low} is above high {self.high}")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        for _ in range(64):
            x = float(rng.normal(self.mean, self.std))
            if lo <= x <= hi:
                return x
        return float(min(max(self.mean, lo), hi))

    def support(self) -> tuple[float, float]:
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if self.std == 0:  # every draw is the mean, clamped into [low, high]
            x = min(max(self.mean, lo), hi)
            return x, x
        return lo, hi

    def to_yaml(self) -> Any:
        if self.low is None and self.high is None:
            return {"normal": [self.mean, self.std]}
        d: dict[str, float] = {"mean": self.mean, "std": self.std}
        if self.low is not None:
            d["low"] = self.low
        if self.high is not None:
            d["high"] = self.high
        return {"normal": d}

    def describe(self) -> str:
        trunc = "" if self.low is None and self.high is None else f", [{self.low}, {self.high}]"
        return f"normal({self.mean:g}, {self.std:g}{trunc})"


class Choice(Distribution):
    values: tuple[Scalar, ...]
    weights: tuple[float, ...]

    @model_validator(mode="after")
    def _check(self) -> Choice:
        if not self.values:
            raise ValueError("choice needs at least one value")
        if len(self.weights) != len(self.values):
            raise ValueError("choice has a different number of weights and values")
        if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError("choice weights must be >= 0 and not all 0")
        if not math.isfinite(sum(self.weights)):  # each is finite, but p = weights / sum needs the sum
            raise ValueError("choice weights are too large: their sum overflows")
        return self

    def sample(self, rng: np.random.Generator) -> Scalar:
        p = np.asarray(self.weights, dtype=np.float64)
        return self.values[int(rng.choice(len(self.values), p=p / p.sum()))]

    def support(self) -> tuple[float, float] | None:
        nums = [v for v, w in zip(self.values, self.weights, strict=True) if w > 0]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in nums):
            return float(min(nums)), float(max(nums))
        return None

    def outcomes(self) -> tuple[Scalar, ...]:
        return self.values

    def to_yaml(self) -> Any:
        if len(set(self.weights)) == 1:
            return {"choice": list(self.values)}
        if all(isinstance(v, str) for v in self.values):
            return {"choice": dict(zip(self.values, self.weights, strict=True))}
        return {"choice": {"values": list(self.values), "weights": list(self.weights)}}

    def describe(self) -> str:
        total = sum(self.weights)
        return (
            "choice("
            + ", ".join(f"{v}: {w / total:.2f}" for v, w in zip(self.values, self.weights, strict=True))
            + ")"
        )


class Bernoulli(Distribution):
    p: float

    @field_validator("p")
    @classmethod
    def _prob(cls, p: float) -> float:
        if not 0 <= p <= 1:
            raise ValueError(f"bernoulli p must be in [0, 1], got {p}")
        return p

    def sample(self, rng: np.random.Generator) -> bool:
        return bool(rng.random() < self.p)

    def support(self) -> None:
        return None

    def outcomes(self) -> tuple[Scalar, ...]:
        return (False, True)

    def to_yaml(self) -> Any:
        return {"bernoulli": self.p}

    def describe(self) -> str:
        return f"bernoulli({self.p:g})"


def parse_distribution(value: Any) -> Distribution:
    """Turn the YAML form of a parameter into a `Distribution` (raises ValueError with the reason)."""
    if isinstance(value, Distribution):
        return value
    if value is None:
        raise ValueError("a parameter needs a value or a distribution, got nothing")
    if isinstance(value, bool | str) or is_number(value):
        return Constant(value=value)
    if isinstance(value, int | float):
        raise ValueError(f"expected a finite number, got {value!r}")
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(
            f"expected a constant or one of {{{', '.join(sorted(_KINDS))}}}: [..], got {value!r}"
        )
    ((kind, arg),) = value.items()
    if kind not in _KINDS:
        raise ValueError(f"unknown distribution {kind!r}; known: {', '.join(sorted(_KINDS))}")
    return _KINDS[kind](arg)


def _normal(arg: Any) -> Normal:
    if isinstance(arg, dict):
        if not {"mean", "std"} <= set(arg) <= {"mean", "std", "low", "high"}:
            raise ValueError(f"normal takes {{mean, std}} and optionally {{low, high}}, got {arg!r}")
        for key, x in arg.items():
            if not is_number(x):
                raise ValueError(f"normal {key} must be a finite number, got {x!r}")
        return Normal(**arg)
    mean, std = _pair_unordered(arg, "normal")
    return Normal(mean=mean, std=std)


def _pair_unordered(v: Any, name: str) -> tuple[float, float]:
    if not isinstance(v, list | tuple) or len(v) != 2 or not all(is_number(x) for x in v):
        raise ValueError(f"{name} takes two finite numbers [mean, std], got {v!r}")
    return float(v[0]), float(v[1])


def _choice(arg: Any) -> Choice:
    if isinstance(arg, list):
        values, weights = arg, [1.0] * len(arg)
    elif isinstance(arg, dict) and set(arg) == {"values", "weights"}:
        values, weights = arg["values"], arg["weights"]
        if not isinstance(values, list) or not isinstance(weights, list):
            raise ValueError(f"choice takes {{values: [..], weights: [..]}}, two lists, got {arg!r}")
    elif isinstance(arg, dict):
        values, weights = list(arg), list(arg.values())
    else:
        raise ValueError(f"choice takes a list or a mapping value: weight, got {arg!r}")
    for v in values:
        if not (isinstance(v, str | bool) or is_number(v)):
            raise ValueError(f"choice values must be names, true/false or finite numbers, got {v!r}")
    for w in weights:
        if not is_number(w):
            raise ValueError(f"choice weights must be finite numbers, got {w!r}")
    return Choice(values=tuple(values), weights=tuple(float(w) for w in weights))


def _randint(arg: Any) -> RandInt:
    lo, hi = _pair(arg, "randint")
    if lo != int(lo) or hi != int(hi):
        raise ValueError(f"randint takes two integers, got {arg!r}")
    if max(abs(lo), abs(hi)) > RANDINT_MAX:  # numpy draws int64, and floats hold integers exactly up to here
        raise ValueError(f"randint bounds must lie within -2^53 .. 2^53, got {arg!r}")
    return RandInt(low=int(lo), high=int(hi))


def _bernoulli(arg: Any) -> Bernoulli:
    if not is_number(arg):
        raise ValueError(f"bernoulli takes a probability p in [0, 1], got {arg!r}")
    return Bernoulli(p=arg)


_KINDS = {
    "uniform": lambda a: Uniform(low=_pair(a, "uniform")[0], high=_pair(a, "uniform")[1]),
    "loguniform": lambda a: LogUniform(low=_pair(a, "loguniform")[0], high=_pair(a, "loguniform")[1]),
    "normal": _normal,
    "randint": _randint,
    "choice": _choice,
    "bernoulli": _bernoulli,
}
