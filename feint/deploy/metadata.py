"""What an exported model needs beside its graph: the preprocessing, the classes and where it came from.

An ONNX file keeps it in its `metadata_props` (string keys and values, shown by Netron and read by any ONNX
Runtime: `session.get_modelmeta().custom_metadata_map`); a TorchScript file in an extra file `feint.json`
(`torch.jit.load(path, _extra_files={"feint.json": ""})`). Strings are stored as they are, numbers and
lists as JSON.

The graph itself takes uint8 RGB pixels and normalises them (x / 255 - mean) / std inside, so a caller
only decodes and resizes: by the `resize` rule, with the same code feint's own PyTorch path uses
(`RESIZE_RULES` names it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from feint.errors import FeintError

METADATA_VERSION = 1
EXTRA_FILE = "feint.json"  # the TorchScript extra file holding the record
TASKS = ("classifier", "detector")

# The resize rules an export may name, each implemented once and used by the PyTorch and the ONNX Runtime
# paths alike: feint.training.cache.decode_image and feint.detection.data.load_image.
RESIZE_RULES = {
    "stretch": (
        "the whole image resized to size x size (aspect ratio not kept, nothing cropped), PIL bilinear "
        "with reducing_gap=3.0, after conversion to RGB"
    ),
    "longer_side": (
        "resized so that its longer side is `size` (aspect ratio kept; JPEG decoded at a reduced scale "
        "when still at least that large), PIL bilinear, after conversion to RGB; boxes come back in the "
        "resized image's pixels: divide by the scale to map them onto the original"
    ),
}


@dataclass(frozen=True)
class ModelInfo:
    """The record an export carries: enough to feed the graph and read its outputs without feint."""

    task: str  # classifier | detector
    classes: list[str]  # output index -> class name
    input_size: int  # classifier: images are size x size; detector: their longer side
    resize: str  # a key of RESIZE_RULES
    mean: list[float]  # per channel, on [0, 1] pixels; applied inside the graph
    std: list[float]
    input_name: str  # the graph's input
    input_layout: str  # NCHW (classifier: a batch) or CHW (detector: one image)
    outputs: list[str]  # the graph's outputs, in order
    run: str  # the run folder exported (absolute)
    checkpoint: str  # best.pt or last.pt
    backbone: str
    mode: str  # classifier: finetune | frozen; detector: its model (fasterrcnn)
    exporter: str  # which torch path wrote the graph
    feint_version: str
    torch_version: str
    input_dtype: str = "uint8"
    channel_order: str = "RGB"
    normalisation: str = "inside the graph: (pixels / 255 - mean) / std"
    preprocessing: str = ""  # RESIZE_RULES[resize], for a reader of the file
    metadata_version: int = METADATA_VERSION

    def to_strings(self) -> dict[str, str]:
        """Flat string pairs, as ONNX metadata_props hold them."""
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in asdict(self).items()}

    @classmethod
    def from_strings(cls, values: dict[str, str], where: str) -> ModelInfo:
        """The record of an exported file; a clear error for a file feint did not export, or a newer one."""
        if "task" not in values or "metadata_version" not in values:
            raise FeintError(
                f"{where}: no feint metadata (task, classes, input size); use a model written by "
                "`feint export`"
            )
        try:
            version = int(values["metadata_version"])
        except ValueError:
            version = -1
        if version != METADATA_VERSION:
            raise FeintError(
                f"{where}: feint metadata version {values['metadata_version']}, this feint reads "
                f"{METADATA_VERSION}; export the run again with this feint"
            )
        record: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in values:
                continue
            text = values[f.name]
            try:
                record[f.name] = text if f.type == "str" else json.loads(text)
            except ValueError:
                raise FeintError(f"{where}: damaged feint metadata ({f.name}: {text!r})") from None
        try:
            info = cls(**record)
        except TypeError as err:
            raise FeintError(f"{where}: incomplete feint metadata ({err})") from None
        info.check(where)
        return info

    def check(self, where: str) -> None:
        """The values this feint can act on."""
        if self.task not in TASKS:
            raise FeintError(f"{where}: unknown task {self.task!r} in its feint metadata")
        if self.resize not in RESIZE_RULES:
            raise FeintError(
                f"{where}: resize rule {self.resize!r} unknown to this feint (known: "
                f"{', '.join(RESIZE_RULES)}); export the run again with this feint"
            )
        if not self.classes or not all(isinstance(c, str) for c in self.classes):
            raise FeintError(f"{where}: its feint metadata lists no classes")
        if not isinstance(self.input_size, int) or self.input_size < 1:
            raise FeintError(f"{where}: bad input size {self.input_size!r} in its feint metadata")

    def to_json(self) -> str:
        """The record as one JSON document (TorchScript's extra file)."""
        return json.dumps(asdict(self), indent=2) + "\n"
