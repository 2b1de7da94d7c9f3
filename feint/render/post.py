"""Pixel effects after rendering: atmosphere, camera response and how photos get delivered.

These run in numpy on the raw passes, so they cost almost nothing next to a path-traced image and
apply identically to any renderer. Geometry-changing steps (crop and resize) transform the object-index
map too, so labels always match pixels.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from feint.scene.description import Atmosphere, PostSettings

SKY_DEPTH = 1e6  # depth beyond this is sky (Cycles writes ~1e10 there)
LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


@dataclass
class PostResult:
    jpeg: bytes
    index: np.ndarray  # (H, W) object index after crop/resize, aligned with the delivered image
    crop_box: tuple[int, int, int, int] | None  # x0, y0, x1, y1 in render pixels, if cropped


def haze(rgb: np.ndarray, depth: np.ndarray, atmosphere: Atmosphere) -> np.ndarray:
    """Koschmieder's law: contrast falls as exp(-3 d / visibility) towards the haze colour."""
    sky = depth > SKY_DEPTH
    d = np.where(sky, 0.05 * atmosphere.visibility, depth)
    transmission = np.exp(-3.0 * d / atmosphere.visibility)[..., None]
    luminance = rgb @ LUMA
    reference = np.percentile(luminance[sky], 50) if sky.mean() > 0.02 else np.percentile(luminance, 80)
    color = np.asarray(atmosphere.haze_color, dtype=np.float32)
    airlight = color / max(float(color @ LUMA), 1e-6) * max(float(reference), 1e-4)
    return rgb * transmission + airlight * (1.0 - transmission)


def expose(rgb: np.ndarray, ev: float, contrast: float, saturation: float) -> np.ndarray:
    """Auto-exposure anchored on the highlights (as cameras meter bright sea scenes), a soft shoulder,
    contrast/saturation, then sRGB encoding."""
    luminance = rgb @ LUMA
    white = max(float(np.percentile(luminance, 99.5)), 1e-6)
    x = rgb * (0.9 / white * 2.0**ev)
    knee = 0.8
    x = np.where(x > knee, knee + (1 - knee) * np.tanh((x - knee) / (1 - knee)), x)
    x = np.clip(x, 0.0, 1.0)
    srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    grey = (srgb @ LUMA)[..., None]
    srgb = grey + (srgb - grey) * saturation
    srgb = 0.5 + (srgb - 0.5) * contrast
    return np.clip(srgb, 0.0, 1.0)


def crop_box(index: np.ndarray, labels: list[int], margin: float) -> tuple[int, int, int, int] | None:
    """The box around the labelled objects, grown by `margin` of its size, clipped to the frame."""
    mask = np.isin(index, labels)
    if not mask.any():
        return None
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    h, w = index.shape
    box = (
        max(0, int(x0 - mx)),
        max(0, int(y0 - my)),
        min(w, int(np.ceil(x1 + mx))),
        min(h, int(np.ceil(y1 + my))),
    )
    return box if box[2] - box[0] >= 2 and box[3] - box[1] >= 2 else None


def limit_stretch(
    box: tuple[int, int, int, int], shape: tuple[int, int], aspect: float, max_stretch: float
) -> tuple[int, int, int, int]:
    """`box` grown on its short side (centred, kept inside the (H, W) frame) so resizing it to `aspect`
    (width / height) stretches one axis by at most `max_stretch`."""
    x0, y0, x1, y1 = box
    h, w = shape
    ratio = (x1 - x0) / (y1 - y0) / aspect  # > 1: the resize stretches the box vertically
    if max(ratio, 1 / ratio) <= max_stretch:
        return box

    def grow(lo: int, hi: int, size: float, limit: int) -> tuple[int, int]:
        size = min(float(limit), size)
        start = min(max(0.0, (lo + hi) / 2 - size / 2), limit - size)
        return int(start), int(np.ceil(start + size))

    if ratio > 1:
        y0, y1 = grow(y0, y1, (x1 - x0) / aspect / max_stretch, h)
    else:
        x0, x1 = grow(x0, x1, (y1 - y0) * aspect / max_stretch, w)
    return x0, y0, x1, y1


def motion_blur(img: Image.Image, length: float, angle: float) -> Image.Image:
    """Average of copies shifted along a line: a straight camera shake of `length` pixels."""
    steps = max(2, int(np.ceil(length)) + 1)
    arr = np.asarray(img, dtype=np.float32)
    acc = np.zeros_like(arr)
    dx, dy = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    for t in np.linspace(-length / 2, length / 2, steps):
        acc += np.roll(arr, (int(round(t * dy)), int(round(t * dx))), axis=(0, 1))
    return Image.fromarray(np.clip(acc / steps, 0, 255).astype(np.uint8))


def finish(
    rgb: np.ndarray,
    index: np.ndarray,
    depth: np.ndarray,
    atmosphere: Atmosphere,
    post: PostSettings,
    labels: list[int],
    rng: np.random.Generator,
) -> PostResult:
    """From raw passes to the delivered JPEG and its aligned object-index map."""
    srgb = expose(haze(rgb, depth, atmosphere), post.exposure, post.contrast, post.saturation)
    img = Image.fromarray((srgb * 255.0 + 0.5).astype(np.uint8))
    idx = Image.fromarray(index.astype(np.int32), mode="I")
    box = crop_box(index, labels, post.crop_margin) if post.crop else None
    if box is not None:
        height, width = index.shape
        box = limit_stretch(box, (height, width), post.out_width / post.out_height, post.max_stretch)
        img, idx = img.crop(box), idx.crop(box)
    size = (post.out_width, post.out_height)
    if img.size != size:
        img = img.resize(size, Image.Resampling.BILINEAR)
        idx = idx.resize(size, Image.Resampling.NEAREST)
    if post.focus_blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(post.focus_blur))
    if post.motion_blur > 0:
        img = motion_blur(img, post.motion_blur, post.motion_angle)
    if post.low_detail:
        w, h = img.size
        small = (
            max(2, round(w * post.low_detail_px / max(w, h))),
            max(2, round(h * post.low_detail_px / max(w, h))),
        )
        img = img.resize(small, Image.Resampling.BOX).resize(img.size, Image.Resampling.NEAREST)
    index_out = np.asarray(idx, dtype=np.int32)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    if post.cutout:
        keep = Image.fromarray((np.isin(index_out, labels) * 255).astype(np.uint8)).filter(
            ImageFilter.MaxFilter(5)
        )
        arr = arr * (np.asarray(keep)[..., None] > 0)
    if post.noise > 0:
        arr = arr + rng.normal(0.0, post.noise, size=arr.shape)
    out = Image.fromarray((np.clip(arr, 0, 1) * 255.0 + 0.5).astype(np.uint8))
    buf = io.BytesIO()
    out.save(buf, format="JPEG", quality=int(post.jpeg_quality))
    return PostResult(buf.getvalue(), index_out, box)
