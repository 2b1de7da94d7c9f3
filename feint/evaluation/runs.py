"""A trained run, loaded for prediction: class probabilities for image files.

A frozen-backbone run stores only its head; its images go through the feature cache (the study scores
hundreds of runs on the same test photos: the backbone runs once per photo). A fine-tuned run stores
backbone and head, and its images go through the image cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from feint.errors import FeintError

if TYPE_CHECKING:
    from feint.training.backbones import BackboneSpec


@dataclass
class Run:
    path: Path
    classes: list[str]
    size: int
    mode: str
    spec: BackboneSpec
    checkpoint: dict[str, Any]

    def record(self) -> dict[str, Any]:
        return {"mode": self.mode, "backbone": self.spec.name, "size": self.size}

    def predict_proba(
        self,
        paths: Sequence[Path],
        sizes: Sequence[tuple[int | None, int | None]] | None = None,
        cache: str | Path | None = None,
        batch: int = 64,
        progress: bool = False,
        device: str = "cpu",
    ) -> np.ndarray:
        """(N, classes) softmax probabilities, in the run's class order."""
        import torch

        from feint.training.cache import feature_rows, image_rows
        from feint.training.model import make_head

        state = self.checkpoint["state"]
        head = make_head(
            self.checkpoint["head"]["width"], len(self.classes), self.checkpoint["head"]["hidden"]
        )
        head.load_state_dict(state["head"])
        head.eval().to(device)
        if state["backbone"] is None:
            feats = feature_rows(paths, self.spec, self.size, cache, sizes, batch, progress, device)
            with torch.inference_mode():
                return torch.softmax(head(torch.as_tensor(feats, device=device)), 1).cpu().numpy()
        from feint.training.backbones import create_backbone
        from feint.training.model import Classifier

        backbone = create_backbone(self.spec, pretrained=False)
        backbone.load_state_dict(state["backbone"])
        model = Classifier(backbone, head, self.spec.mean, self.spec.std).eval()
        # torch's `to` takes device and layout in one call, but its type stubs only one of them
        model.to(device).to(memory_format=torch.channels_last)
        images = image_rows(paths, self.size, cache, sizes, progress)
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), batch):
                idx = range(start, min(start + batch, len(images)))
                x = torch.from_numpy(np.stack([images[i] for i in idx])).permute(0, 3, 1, 2).to(device)
                x = x.contiguous(memory_format=torch.channels_last)
                out.append(torch.softmax(model(x), 1).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)), dtype=np.float32)


def load_run(path: str | Path, which: str = "best") -> Run:
    """The run's best (or last) weights; a clear error for a missing or unfinished run."""
    from feint.training.backbones import spec_from_record
    from feint.training.checkpoint import load_checkpoint

    path = Path(path)
    if not path.is_dir():
        raise FeintError(f"{path}: no such run folder")
    if not (path / "config.json").is_file():
        raise FeintError(f"{path}: not a `feint train` run (no config.json)")
    file = path / f"{which}.pt"
    if not file.is_file():
        raise FeintError(
            f"{path}: no {which}.pt yet: the run has not finished an epoch (continue it with "
            "`feint train ... --resume`)"
        )
    ckpt = load_checkpoint(file)
    return Run(
        path, list(ckpt["classes"]), int(ckpt["size"]), ckpt["mode"], spec_from_record(ckpt["backbone"]), ckpt
    )
