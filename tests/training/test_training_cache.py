"""Image and feature caches: decoded once, reused by any subset, clear errors for broken images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from feint.errors import FeintError
from feint.training import cache as cache_mod
from feint.training.cache import cached_feature_rows, feature_rows, image_key, image_rows


def images_of(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.png"))


def shards(cache: Path, kind: str) -> list[Path]:
    return sorted((cache / f"v{cache_mod.CACHE_VERSION}" / kind).rglob("*.npy"))


def test_images_are_decoded_once_and_subsets_reuse_them(
    tiny: Path, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = images_of(tiny)
    rows = image_rows(paths, 16)
    assert rows.shape == (len(paths), 16, 16, 3)
    assert np.asarray(rows).dtype == np.uint8
    expected = np.asarray(Image.open(paths[3]).convert("RGB").resize((16, 16), Image.BILINEAR))
    assert np.abs(rows[3].astype(int) - expected.astype(int)).max() <= 1
    assert isinstance(rows.shards[0], np.memmap)

    def no_decoding(*args: object, **kw: object) -> None:
        raise AssertionError("decoded again")

    monkeypatch.setattr(cache_mod, "decode_image", no_decoding)
    subset = image_rows(paths[5:1:-1], 16)  # another subset, another order: all cached
    assert np.array_equal(np.asarray(subset), np.asarray(rows)[5:1:-1])
    assert len(shards(private_cache, "images")) == 1


def test_only_new_images_are_decoded(tiny: Path, private_cache: Path) -> None:
    paths = images_of(tiny)
    image_rows(paths[:10], 16)
    both = image_rows(paths, 16)
    assert len(shards(private_cache, "images")) == 2
    assert len(both) == len(paths)
    again = image_rows(paths, 16)
    assert np.array_equal(np.asarray(again), np.asarray(both))


def test_a_changed_file_gets_a_new_key(tiny: Path) -> None:
    path = images_of(tiny)[0]
    before = image_key(path)
    Image.new("RGB", (40, 32), (1, 2, 3)).save(path)
    os.utime(path, ns=(1, 1))
    assert image_key(path) != before


def test_corrupt_image_is_named(tiny: Path) -> None:
    paths = images_of(tiny)
    paths[2].write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(FeintError, match=f"{paths[2].name}: corrupt or unreadable image"):
        image_rows(paths, 16)


def test_size_mismatch_with_the_labels_is_named(tiny: Path) -> None:
    paths = images_of(tiny)[:2]
    with pytest.raises(FeintError, match=r"image is 40x32 but the labels say 64x64"):
        image_rows(paths, 16, sizes=[(40, 32), (64, 64)])


def test_features_are_cached_per_backbone_and_size(
    tiny: Path, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = images_of(tiny)
    first = feature_rows(paths, "mobilenet_v2", 32)
    assert first.shape == (len(paths), 1280) and first.dtype == np.float32

    def no_model(*args: object, **kw: object) -> None:
        raise AssertionError("backbone built again")

    monkeypatch.setattr("feint.training.backbones.create_backbone", no_model)
    again = feature_rows(paths[::-1], "mobilenet_v2", 32)
    np.testing.assert_array_equal(again, first[::-1])
    assert len(shards(private_cache, "features")) == 1


def test_mirrored_features_are_the_features_of_mirrored_images(
    tiny: Path, private_cache: Path, tmp_path: Path
) -> None:
    paths = images_of(tiny)[:3]
    flipped = []
    for i, path in enumerate(paths):
        flipped.append(tmp_path / f"{i}.png")
        Image.open(path).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(flipped[-1])
    mirrored = feature_rows(paths, "mobilenet_v2", 32, mirrored=True)
    np.testing.assert_allclose(mirrored, feature_rows(flipped, "mobilenet_v2", 32), rtol=1e-4, atol=1e-5)
    assert not np.allclose(mirrored, feature_rows(paths, "mobilenet_v2", 32), atol=1e-3)
    folders = {shard.parent.name for shard in shards(private_cache, "features")}
    assert folders == {"32px", "32px-mirrored"}  # cached apart from the plain features


def test_cached_features_are_looked_up_without_computing_or_writing(
    tiny: Path, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = images_of(tiny)
    found, rows = cached_feature_rows(paths, "mobilenet_v2", 32)
    assert len(found) == 0 and len(rows) == 0
    assert not private_cache.exists()  # an empty lookup creates no folder
    stored = feature_rows(paths[2:6], "mobilenet_v2", 32)
    files = sorted(private_cache.rglob("*"))

    def no_model(*args: object, **kw: object) -> None:
        raise AssertionError("backbone built")

    monkeypatch.setattr("feint.training.backbones.create_backbone", no_model)
    asked = [paths[7], paths[4], tiny / "gone.png", paths[2]]
    found, rows = cached_feature_rows(asked, "mobilenet_v2", 32)
    assert found.tolist() == [1, 3]  # paths[4] and paths[2]; paths[7] was never computed, gone.png is no file
    np.testing.assert_array_equal(rows, stored[[2, 0]])
    assert len(cached_feature_rows(paths, "mobilenet_v2", 64)[0]) == 0  # another size: nothing
    assert sorted(private_cache.rglob("*")) == files
