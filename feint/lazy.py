"""Lazy references: a registry entry names its code as a "module:attr" string (as entry points do), so the
registry imports none of the stages that register into it and data keeps flowing one way."""

from __future__ import annotations

import importlib
from typing import Any


def resolve(ref: Any) -> Any:
    """The object a "module:attr" string names, imported now; anything else is returned as it is."""
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)
