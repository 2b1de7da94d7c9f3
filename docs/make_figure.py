"""Make runs/renders-vs-real.png: per class, renders of a graph beside your real ships-dev photos.

.venv/bin/python docs/make_figure.py [--graph marine] [--real ../shared/data/ships-dev] [-n 80]

The sheet holds ships-dev photos, which carry no licence to copy: it is written under runs/ (which git
ignores) and is never committed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw

from feint.graph import load_graph
from feint.render.dataset import render_dataset
from feint.render.job import RenderJob

W, H, PER_SIDE, LABEL_W = 120, 83, 4, 110


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--graph", default="marine")
    parser.add_argument("--real", default=str(Path(__file__).resolve().parents[2] / "shared/data/ships-dev"))
    parser.add_argument("-n", type=int, default=80, help="images to render (spread over the classes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--out", default="runs/renders-vs-real.png")
    args = parser.parse_args()

    out_dir = Path(tempfile.mkdtemp(prefix="feint-fig-")) / "ds"
    render_dataset(RenderJob(load_graph(args.graph), args.n, out_dir, size=240, seed=args.seed, workers=2))
    coco = json.loads((out_dir / "annotations.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    image_class = {a["image_id"]: names[a["category_id"]] for a in coco["annotations"]}
    renders: dict[str, list[Path]] = {}
    for img in coco["images"]:
        renders.setdefault(image_class[img["id"]], []).append(out_dir / img["file_name"])
    manifest = pd.read_csv(Path(args.real) / "manifest.csv")
    classes = list(names.values())
    sheet = Image.new("RGB", (LABEL_W + 2 * PER_SIDE * W + 10, len(classes) * H), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for row, cls in enumerate(classes):
        draw.text((4, row * H + H // 2 - 6), cls, fill=(0, 0, 0))
        for k, path in enumerate(renders.get(cls, [])[:PER_SIDE]):
            sheet.paste(Image.open(path).convert("RGB").resize((W, H)), (LABEL_W + k * W, row * H))
        real = manifest[manifest["class"] == cls].sample(PER_SIDE, random_state=args.seed)["file"]
        for k, rel in enumerate(real):
            img = Image.open(Path(args.real) / rel).convert("RGB").resize((W, H))
            sheet.paste(img, (LABEL_W + PER_SIDE * W + 10 + k * W, row * H))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
