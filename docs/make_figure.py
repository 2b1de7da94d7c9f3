"""Make the renders-vs-real sheet: per class, renders of a graph beside real photos of that class.

.venv/bin/python docs/make_figure.py [--graph marine] [--real ../shared/data/typesofships] [-n 4]

By default the photos are the boxes of typesofships (CC BY 4.0, by Roboflow user `some1`), its types
mapped onto the marine classes by examples/maps/typesofships-to-marine.yaml, and the sheet is written to
docs/figures/renders-vs-real.jpg; classes with no typesofships photo show renders only. With any other
`--real` (ships-dev, whose photos carry no licence to copy) the sheet is written under runs/, which git
ignores, unless `-o` says otherwise.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from feint.datasets import load_dataset
from feint.datasets.core import Record
from feint.datasets.select import map_classes, read_mapping
from feint.graph import load_graph
from feint.render.dataset import render_dataset
from feint.render.job import RenderJob

W, H, LABEL_W, GAP = 150, 104, 118, 12
DOCS = Path(__file__).resolve().parent
SHARED = DOCS.parents[1] / "shared" / "data"


def crops(records: list[Record], cls: str, n: int) -> list[Image.Image]:
    """The first `n` boxes of class `cls` (the whole image for a photo without boxes), with a margin."""
    found = []
    for r in records:
        image = None
        boxes = [(b, c) for b, c in zip(r.boxes, r.box_labels, strict=True) if c == cls]
        if not boxes and r.label == cls:
            found.append(Image.open(r.image).convert("RGB"))
        for box, _ in boxes:
            image = image or Image.open(r.image).convert("RGB")
            x0, y0, x1, y1 = box
            mx, my = 0.08 * (x1 - x0), 0.08 * (y1 - y0)
            if min(x1 - x0, y1 - y0) >= 24:  # a box too small to see a ship in is left out
                found.append(image.crop((max(0, x0 - mx), max(0, y0 - my), x1 + mx, y1 + my)))
        if len(found) >= n:
            break
    return found[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--graph", default="marine")
    parser.add_argument("--real", default=str(SHARED / "typesofships"))
    parser.add_argument("--map", default=str(DOCS.parent / "examples/maps/typesofships-to-marine.yaml"))
    parser.add_argument("-n", type=int, default=4, help="renders and photos per class")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--out", default=None)
    args = parser.parse_args()
    licensed = Path(args.real).name == "typesofships"
    out = Path(args.out or (DOCS / "figures/renders-vs-real.jpg" if licensed else "runs/renders-vs-real.png"))

    graph = load_graph(args.graph)
    classes = list(graph.classes)
    folder = Path(tempfile.mkdtemp(prefix="feint-fig-")) / "renders"
    # enough images that every class (drawn by its weight) has `n`
    render_dataset(RenderJob(graph, 4 * args.n * len(classes), folder, size=240, seed=args.seed, workers=1))
    renders = load_dataset(folder)
    real = load_dataset(Path(args.real))
    if licensed:
        real = map_classes(real, read_mapping(Path(args.map)), args.map)

    sheet = Image.new("RGB", (LABEL_W + 2 * args.n * W + GAP, len(classes) * H + 20), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((LABEL_W, 4), f"renders ({graph.name})", fill="black")
    draw.text((LABEL_W + args.n * W + GAP, 4), f"real photos ({Path(args.real).name})", fill="black")
    for row, cls in enumerate(classes):
        y = 20 + row * H
        draw.text((4, y + H // 2 - 6), cls, fill="black")
        shown = [Image.open(r.image).convert("RGB") for r in renders.records if r.primary_class == cls]
        for k, image in enumerate(shown[: args.n]):
            sheet.paste(image.resize((W - 2, H - 2)), (LABEL_W + k * W, y))
        photos = crops(real.records, cls, args.n)
        for k, image in enumerate(photos):
            sheet.paste(image.resize((W - 2, H - 2)), (LABEL_W + args.n * W + GAP + k * W, y))
        if not photos:
            draw.text((LABEL_W + args.n * W + GAP + 8, y + H // 2 - 6), "no photo of this class", fill="grey")
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, quality=85)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
