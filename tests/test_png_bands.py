"""Big PNGs decoded and shrunk a band of rows at a time (thumbs/png_bands.py, generate._apply_banded)."""

from __future__ import annotations

import functools
import io
import random
import zlib
from pathlib import Path

import pytest
from PIL import Image

from satchel.thumbs import generate
from satchel.thumbs.generate import ThumbError, make_thumb
from satchel.thumbs.png_bands import bandable, bands
from satchel.thumbs.spec import parse_thumb

BIG = 10**8


def noisy(mode: str, width: int, height: int, seed: int = 1) -> Image.Image:
    """Noise over gradients, faint alpha levels included."""
    rnd = random.Random(seed)
    ramp = Image.linear_gradient("L").resize((width, height))
    noise = Image.frombytes("L", (width, height), rnd.randbytes(width * height))
    channels = [Image.blend(ramp, noise, 0.2 * k) for k in range(len(mode))]
    if "A" in mode:  # alpha: faint rows (0, 1, 3) and varied ones
        alpha = Image.new("L", (width, height))
        for y in range(height):
            alpha.paste(rnd.choice([0, 1, 3, 40, 128, 255]), (0, y, width // 2 + rnd.randrange(width // 2), y + 1))
        channels[-1] = alpha
    return Image.merge(mode, channels)


def predicted(kind: int, row: bytes, prior: bytes, i: int, bpp: int) -> int:
    """What PNG filter `kind` predicts for byte i of `row` (the row above: `prior`)."""
    a = row[i - bpp] if i >= bpp else 0
    b, c = prior[i], prior[i - bpp] if i >= bpp else 0
    if kind == 4:
        p = a + b - c
        return a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c
    return [0, a, b, (a + b) // 2][kind]


def every_filter_png(im: Image.Image) -> bytes:
    """`im` as an 8-bit PNG whose rows take the five filters in turn (encoders pick few of them)."""
    bpp, width = len(im.mode), im.width * len(im.mode)
    raw, prior, rows = im.tobytes(), bytes(width), []
    for y in range(im.height):
        row, kind = raw[y * width : (y + 1) * width], y % 5
        rows.append(bytes([kind]) + bytes((row[i] - predicted(kind, row, prior, i, bpp)) & 255 for i in range(width)))
        prior = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    colour = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}[im.mode]
    header = im.width.to_bytes(4, "big") + im.height.to_bytes(4, "big") + bytes([8, colour, 0, 0, 0])
    data = zlib.compress(b"".join(rows))
    idat = b"".join(chunk(b"IDAT", data[i : i + 5000]) for i in range(0, len(data), 5000))  # several IDATs
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "LA", "L"])
def test_bands_hold_the_rows_pillow_decodes(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(every_filter_png(noisy(mode, 157, 203)))
    whole = Image.open(path)
    whole.load()
    with Image.open(path) as im:
        assert bandable(im)
        seen = 0
        for first, band in bands(im, str(path), 10):
            assert first == max(0, seen - 1)  # each band after the first repeats the row before it
            assert band.tobytes() == whole.crop((0, first, 157, first + band.height)).tobytes()
            seen = first + band.height
    assert seen == 203


def interlaced_header(png: bytes) -> bytes:
    """`png` with its IHDR saying Adam7 (enough for what is read from the header alone)."""
    ihdr = bytearray(png[12:29])
    ihdr[-1] = 1
    return png[:12] + bytes(ihdr) + zlib.crc32(ihdr).to_bytes(4, "big") + png[33:]


@pytest.mark.parametrize("name", ["palette.png", "interlaced.png", "grey16.png"])
def test_pngs_the_bands_do_not_handle_go_through_the_whole_decode(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name == "interlaced.png":
        path.write_bytes(interlaced_header(every_filter_png(noisy("RGBA", 40, 30))))
    else:
        (noisy("RGB", 40, 30).quantize(16) if name == "palette.png" else Image.new("I;16", (40, 30), 999)).save(path)
    with Image.open(path) as opened:
        assert not bandable(opened)


@functools.cache
def source(mode: str) -> bytes:
    return every_filter_png(noisy(mode, 301, 197))


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "LA", "L"])
@pytest.mark.parametrize("size", ["70x45", "40x40t", "40x40b", "40x40f", "0x30", "30x0", "500x10", "1x1"])
def test_banded_thumb_is_the_whole_decodes_thumb(tmp_path: Path, monkeypatch, mode: str, size: str) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(source(mode))
    monkeypatch.setattr(generate, "BANDED_FROM", 10**9)
    whole = make_thumb(str(path), parse_thumb(size), "image/png", BIG)
    used = []
    monkeypatch.setattr(generate, "bands", lambda *args: used.append(1) or bands(*args))
    monkeypatch.setattr(generate, "BANDED_FROM", 0)
    monkeypatch.setattr(generate, "STRIP_PIXELS", 1200)  # four rows a band: dozens of bands
    assert make_thumb(str(path), parse_thumb(size), "image/png", BIG) == whole
    assert used  # every size here changes the width, so the bands were used


def test_one_alpha_in_a_band_takes_the_shortcut_within_a_level_of_the_float_pass(tmp_path: Path, monkeypatch) -> None:
    im = noisy("RGB", 300, 200).convert("RGBA")
    im.putalpha(Image.new("L", (300, 200), 3))
    im.paste((9, 9, 9, 40), (0, 0, 300, 50))  # the top bands have another alpha: the float pass for the frame
    path = tmp_path / "a.png"
    im.save(path, "PNG")
    monkeypatch.setattr(generate, "BANDED_FROM", 10**9)
    whole = Image.open(io.BytesIO(make_thumb(str(path), parse_thumb("70x45"), "image/png", BIG)[0]))
    monkeypatch.setattr(generate, "BANDED_FROM", 0)
    monkeypatch.setattr(generate, "STRIP_PIXELS", 3000)
    banded = Image.open(io.BytesIO(make_thumb(str(path), parse_thumb("70x45"), "image/png", BIG)[0]))
    difference = [abs(a - b) for p, q in zip(whole.getdata(), banded.getdata(), strict=True) for a, b in zip(p, q, strict=True)]
    assert max(difference) <= 1


def test_truncated_png_gives_no_thumb(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "cut.png"
    noisy("RGBA", 200, 150).save(path, "PNG")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(generate, "BANDED_FROM", 0)
    with pytest.raises(ThumbError):
        make_thumb(str(path), parse_thumb("20x0"), "image/png", BIG)
