"""Helpers the command modules share: option declarations, comma lists, pydantic checks as one-line errors."""

from __future__ import annotations

from typing import Any

import typer
from pydantic import BaseModel, ValidationError

from feint.errors import FeintError


def opt(*names: str, help: str, **kw: Any) -> Any:
    """A typer option with its help text (keyword-only, so every option says what it does)."""
    return typer.Option(*names, help=help, **kw)


def comma_list(text: str | None) -> list[str]:
    """'a, b,,c' -> ['a', 'b', 'c']."""
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def validated(model: type[BaseModel], values: dict[str, Any]) -> Any:
    """The options checked by `model`; the first problem becomes '--option: what is wrong'."""
    try:
        return model(**values)
    except ValidationError as err:
        first = err.errors()[0]
        field = "--" + str(first["loc"][0]).replace("_", "-") if first["loc"] else "options"
        raise FeintError(f"{field}: {first['msg']}") from None
