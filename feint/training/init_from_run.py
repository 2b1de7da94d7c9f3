"""`--init RUN`: a run starts from another run's weights (e.g. trained on renders, continued on photos)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from feint.errors import FeintError
from feint.training.checkpoint import load_checkpoint

if TYPE_CHECKING:
    from torch import nn

    from feint.training.backbones import BackboneSpec


def init_from_run(
    head: nn.Module,
    backbone: nn.Module | None,
    init: str,
    classes: list[str],
    spec: BackboneSpec,
    hidden: int,
) -> list[str]:
    """Load another run's weights: its backbone (if it trained one) and the head rows of shared classes.

    Classes are matched by name, so a synthetic run's head carries over to a real run with the same
    classes in any order; a class the other run did not have keeps its new random row. Returns what was
    loaded, in words.
    """
    ckpt = load_checkpoint(Path(init) / "best.pt")
    if ckpt["backbone"]["arch"] != spec.arch:
        raise FeintError(f"--init {init}: its backbone is {ckpt['backbone']['arch']}, this run's {spec.arch}")
    loaded = []
    if backbone is not None and ckpt["state"]["backbone"] is not None:
        backbone.load_state_dict(ckpt["state"]["backbone"])
        loaded.append("backbone")
    own = head.state_dict()
    if ckpt["head"] != {"hidden": hidden, "width": int(own["0.mean"].shape[0])}:
        return loaded
    theirs = ckpt["classes"]
    shared = [c for c in classes if c in theirs]
    final = [k for k in own if k.endswith(("weight", "bias"))][-2:]  # the class layer
    for k, v in ckpt["state"]["head"].items():
        if k in final:
            for c in shared:
                own[k][classes.index(c)] = v[theirs.index(c)]
        else:
            own[k] = v.clone()
    head.load_state_dict(own)
    return [*loaded, f"head ({len(shared)}/{len(classes)} classes)"]
