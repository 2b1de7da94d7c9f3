"""`resolve_device(name)`: a --device value checked against this machine, before any work starts.

Every command that runs a network (train, eval, predict, detect train|predict|eval) asks here, so that
`--device cuda` on a machine without CUDA, `--device cuda:3` on a one-GPU machine or a typo such as
`--device gpu0` is one clear line rather than a torch traceback minutes into a run.
"""

from __future__ import annotations

import re

from feint.errors import FeintError

ACCEPTED = "cpu, cuda, cuda:N (N counts from 0) or mps"


def resolve_device(name: str | None, option: str = "--device") -> str:
    """The device as torch names it ('cpu', 'cuda', 'cuda:1', 'mps'); a FeintError if this machine has no
    such device or the name is not one."""
    import torch

    text = (name or "cpu").strip().lower()
    if text == "cpu":
        return "cpu"
    found = re.fullmatch(r"cuda(?::(\d+))?", text)
    if found:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            built = "a CPU-only build of torch" if torch.version.cuda is None else "no CUDA device visible"
            raise FeintError(f"{option} {name}: this machine has no CUDA device ({built}); use {option} cpu")
        if found[1] is not None and int(found[1]) >= count:
            have = ", ".join(f"cuda:{k}" for k in range(count))
            raise FeintError(
                f"{option} {name}: this machine has {count} CUDA device{'s' if count > 1 else ''} ({have})"
            )
        return text if found[1] is None else f"cuda:{int(found[1])}"
    if text == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise FeintError(
                f"{option} {name}: Apple's MPS is not available on this machine; use {option} cpu"
            )
        return "mps"
    raise FeintError(f"{option} {name!r}: not a device; expected {ACCEPTED}")
