"""Thumb sizes, geometry and generation, without a server (spec §3, §5.2, §6)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat, JpegImagePlugin

from satchel.thumbs import generate
from satchel.thumbs.generate import ThumbError, make_thumb, plan9_palette
from satchel.thumbs.geometry import Plan, plan_thumb
from satchel.thumbs.spec import ThumbSize, is_valid_thumb, parse_thumb, thumb_allowed

ALL_MODES = ["100x100", "50x50", "40x30t", "40x30b", "40x30f", "20x0", "0x20", "300x300f", "1x1", "500x10"]
BIG = 10**8


# ---- fixtures --------------------------------------------------------------------------------


def pattern(width: int, height: int) -> Image.Image:
    """Opaque RGB with sharp edges and a gradient, so crops and flips show up."""
    im = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    im.paste((255, 0, 0), (0, 0, max(1, width // 4), max(1, height // 4)))  # red top-left corner
    return im


def save(tmp_path: Path, name: str, im: Image.Image, fmt: str, **params) -> str:
    path = tmp_path / name
    im.save(path, fmt, **params)
    return str(path)


def thumb_of(path: str, size: str, stored_type: str, max_pixels: int = BIG) -> tuple[Image.Image, str]:
    data, content_type = make_thumb(path, parse_thumb(size), stored_type, max_pixels)
    return Image.open(io.BytesIO(data)), content_type


def exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return max(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean)


# ---- size strings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100x100", ThumbSize(100, 100, "")),
        ("40x30t", ThumbSize(40, 30, "t")),
        ("40x30b", ThumbSize(40, 30, "b")),
        ("40x30f", ThumbSize(40, 30, "f")),
        ("0x50", ThumbSize(0, 50, "")),
        ("20x0f", ThumbSize(20, 0, "f")),
        ("007x08", ThumbSize(7, 8, "")),
    ],
)
def test_parse_thumb_reads_width_height_and_mode(value: str, expected: ThumbSize) -> None:
    assert parse_thumb(value) == expected


@pytest.mark.parametrize(
    "value",
    ["0x0", "00x0t", "0x0f", "100x", "x100", "100x100c", "100X100", "100x100\n", " 100x100", "١٠٠x١٠٠", "-1x5", ""],
)
def test_parse_thumb_rejects_malformed_and_zero_by_zero(value: str) -> None:
    with pytest.raises(ValueError):
        parse_thumb(value)


@pytest.mark.parametrize(
    ("value", "valid"),
    [("100x100", True), ("0x10", True), ("10x0b", True), ("100x", False), ("0x0", False), ("0x0t", False),
     ("0x0b", False), ("0x0f", False), ("00x0", True), ("1x1z", False)],
)
def test_field_thumbs_option_accepts_like_pocketbase(value: str, valid: bool) -> None:
    # PocketBase rejects the four literal zero sizes only, so "00x0" passes validation.
    assert is_valid_thumb(value) is valid


def test_thumb_allowed_is_exact_string_equality_with_100x100_always_allowed() -> None:
    assert thumb_allowed("100x100", [])
    assert thumb_allowed("50x50", ["20x0", "50x50"])
    assert not thumb_allowed("50x50", ["20x0"])
    assert not thumb_allowed("050x50", ["50x50"])
    assert not thumb_allowed("100x100t", [])


# ---- geometry --------------------------------------------------------------------------------

# (source size, thumb, output size); the first block was observed on the 0.40.6 binary (spec §6).
SIZE_TABLE = [
    ((200, 100), "20x0", (20, 10)),
    ((200, 100), "0x20", (40, 20)),
    ((60, 40), "20x0", (20, 13)),
    ((60, 40), "100x100", (100, 100)),
    ((200, 150), "20x0", (20, 15)),
    ((150, 200), "20x0", (20, 27)),  # the 200x150 JPEG with EXIF orientation 6
    ((200, 100), "40x30f", (40, 20)),
    ((60, 40), "40x30f", (40, 26)),
    ((150, 120), "40x30f", (37, 30)),
    ((120, 120), "40x30f", (30, 30)),
    # more, checked against the binary by test_thumbs_reference.py
    ((150, 120), "0x50b", (63, 50)),
    ((60, 40), "300x300f", (60, 40)),  # fit never upscales
    ((1200, 900), "300x300f", (300, 225)),
    ((1000, 10), "10x10f", (10, 1)),  # truncation gives 0, then the auto rule
    ((10, 1000), "10x10f", (1, 10)),
    ((1000, 1), "0x1", (1000, 1)),
    ((3, 1000), "1x0", (1, 333)),
    ((1, 1), "0x5", (5, 5)),
    ((200, 100), "20x0t", (20, 10)),  # with a 0 side the mode is ignored
    ((60, 40), "500x10", (500, 10)),
    ((120, 120), "120x120", (120, 120)),
]


@pytest.mark.parametrize(("src", "thumb", "expected"), SIZE_TABLE)
def test_plan_gives_pocketbases_output_size(src: tuple[int, int], thumb: str, expected: tuple[int, int]) -> None:
    assert plan_thumb(*src, parse_thumb(thumb)).size == expected


@pytest.mark.parametrize(
    ("src", "thumb", "plan"),
    [
        # big source: crop to the aspect ratio at the anchor, then resize
        ((200, 150), "50x50", Plan((50, 50), crop_before=(25, 0, 175, 150), resize_to=(50, 50))),
        ((200, 150), "50x50t", Plan((50, 50), crop_before=(25, 0, 175, 150), resize_to=(50, 50))),
        ((150, 200), "40x30", Plan((40, 30), crop_before=(0, 43, 150, 156), resize_to=(40, 30))),
        ((150, 200), "40x30t", Plan((40, 30), crop_before=(0, 0, 150, 113), resize_to=(40, 30))),
        ((150, 200), "40x30b", Plan((40, 30), crop_before=(0, 87, 150, 200), resize_to=(40, 30))),
        ((1200, 900), "100x100", Plan((100, 100), crop_before=(150, 0, 1050, 900), resize_to=(100, 100))),
        ((300, 300), "100x100", Plan((100, 100), crop_before=(0, 0, 300, 300), resize_to=(100, 100))),
        # a side under 100: resize to cover, then crop at the anchor
        ((60, 40), "50x50", Plan((50, 50), resize_to=(75, 50), crop_after=(12, 0, 62, 50))),
        ((60, 40), "40x30b", Plan((40, 30), resize_to=(45, 30), crop_after=(2, 0, 42, 30))),
        ((40, 60), "50x30", Plan((50, 30), resize_to=(50, 75), crop_after=(0, 22, 50, 52))),
        ((40, 60), "50x30t", Plan((50, 30), resize_to=(50, 75), crop_after=(0, 0, 50, 30))),
        ((40, 60), "50x30b", Plan((50, 30), resize_to=(50, 75), crop_after=(0, 45, 50, 75))),
        ((99, 200), "99x150", Plan((99, 150), resize_to=None, crop_after=(0, 25, 99, 175))),
        # nothing to do: copied as is
        ((120, 120), "120x120", Plan((120, 120))),
        ((60, 40), "300x300f", Plan((60, 40))),
        ((200, 100), "200x0", Plan((200, 100))),
    ],
)
def test_plan_crops_and_resizes_like_imaging(src: tuple[int, int], thumb: str, plan: Plan) -> None:
    assert plan_thumb(*src, parse_thumb(thumb)) == plan


# ---- generation ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ALL_MODES)
@pytest.mark.parametrize("src", [(200, 100), (60, 40), (150, 120), (120, 120)])
def test_png_thumb_is_an_rgb_png_of_the_planned_size(tmp_path: Path, src: tuple[int, int], size: str) -> None:
    thumb, content_type = thumb_of(save(tmp_path, "a.png", pattern(*src), "PNG"), size, "image/png")
    assert (thumb.format, thumb.mode, content_type) == ("PNG", "RGB", "image/png")
    assert thumb.size == plan_thumb(*src, parse_thumb(size)).size


@pytest.mark.parametrize("size", ALL_MODES)
def test_jpeg_thumb_is_a_q95_420_jpeg_without_exif(tmp_path: Path, size: str) -> None:
    path = save(tmp_path, "a.jpg", pattern(200, 150), "JPEG", quality=80, exif=exif_orientation(1))
    thumb, content_type = thumb_of(path, size, "image/jpeg")
    assert (thumb.format, content_type) == ("JPEG", "image/jpeg")
    assert thumb.size == plan_thumb(200, 150, parse_thumb(size)).size
    assert list(thumb.quantization[0])[:8] == [2, 1, 1, 2, 2, 4, 5, 6]  # quality 95, as observed
    assert JpegImagePlugin.get_sampling(thumb) == 2  # 4:2:0
    assert "exif" not in thumb.info


def test_jpeg_exif_orientation_6_is_applied_before_the_geometry(tmp_path: Path) -> None:
    path = save(tmp_path, "r.jpg", pattern(200, 150), "JPEG", quality=95, exif=exif_orientation(6))
    thumb, _ = thumb_of(path, "20x0", "image/jpeg")
    assert thumb.size == (20, 27)  # observed on the binary
    red, _, _ = thumb.convert("RGB").getpixel((thumb.width - 2, 1))
    assert red > 200  # the stored top-left corner is now top-right


def test_exif_orientation_outside_jpeg_is_ignored_like_go(tmp_path: Path) -> None:
    path = save(tmp_path, "r.png", pattern(200, 150), "PNG", exif=exif_orientation(6))
    thumb, _ = thumb_of(path, "20x0", "image/png")
    assert thumb.size == (20, 15)


def test_big_jpeg_is_shrunk_on_load_without_changing_the_output(tmp_path: Path, monkeypatch) -> None:
    path = save(tmp_path, "big.jpg", pattern(1601, 1203), "JPEG", quality=90)
    decoded: list[tuple[int, int]] = []
    draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = draft(self, mode, size)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    shrunk, _ = thumb_of(path, "100x100", "image/jpeg")
    assert decoded == [(201, 151)]  # 1/8 scale, still over the 100x100 the resize needs
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", lambda self, mode, size: None)
    full, _ = thumb_of(path, "100x100", "image/jpeg")
    assert shrunk.size == full.size == (100, 100)
    assert mean_difference(shrunk, full) < 2


@pytest.mark.parametrize("orientation", range(2, 9))
def test_shrink_on_load_keeps_the_crop_in_place_for_every_orientation(
    tmp_path: Path, orientation: int, monkeypatch
) -> None:
    path = save(tmp_path, "o.jpg", pattern(1203, 901), "JPEG", quality=90, exif=exif_orientation(orientation))
    shrunk, _ = thumb_of(path, "70x50t", "image/jpeg")
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", lambda self, mode, size: None)
    full, _ = thumb_of(path, "70x50t", "image/jpeg")
    assert shrunk.size == full.size == (70, 50)
    assert mean_difference(shrunk, full) < 2


def test_gif_thumb_is_the_first_frame_dithered_to_the_plan9_palette(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (150, 120), (255, 0, 0)), Image.new("RGB", (150, 120), (0, 0, 255))]
    path = save(tmp_path, "a.gif", frames[0], "GIF", save_all=True, append_images=frames[1:])
    thumb, content_type = thumb_of(path, "40x30f", "image/gif")
    assert (thumb.format, thumb.mode, content_type, thumb.size) == ("GIF", "P", "image/gif", (37, 30))
    assert getattr(thumb, "n_frames", 1) == 1
    assert thumb.getpalette() == plan9_palette()
    assert thumb.convert("RGB").getpixel((10, 10)) == (255, 0, 0)


def test_gif_first_frame_smaller_than_the_canvas_is_used_alone(tmp_path: Path) -> None:
    path = tmp_path / "f.gif"
    Image.new("RGB", (40, 30), (0, 255, 0)).save(path, "GIF")
    data = bytearray(path.read_bytes())
    struct.pack_into("<HH", data, 6, 120, 100)  # logical screen 120x100
    struct.pack_into("<HH", data, data.index(b"\x2c") + 1, 10, 20)  # frame at (10, 20)
    path.write_bytes(bytes(data))
    thumb, _ = thumb_of(str(path), "20x0", "image/gif")
    assert thumb.size == (20, 15)  # Go decodes the 40x30 frame, not the 120x100 canvas


def test_plan9_palette_is_gos() -> None:
    palette = plan9_palette()
    colors = [tuple(palette[i : i + 3]) for i in range(0, 768, 3)]
    assert colors[:5] == [(0, 0, 0), (0, 0, 68), (0, 0, 136), (0, 0, 204), (0, 68, 0)]
    assert colors[255] == (255, 255, 255)
    assert len(set(colors)) == 256


def test_webp_thumb_is_png_bytes(tmp_path: Path) -> None:
    path = save(tmp_path, "a.webp", pattern(150, 120), "WEBP", lossless=True)
    data, content_type = make_thumb(path, parse_thumb("50x50"), "image/webp", BIG)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert content_type == "image/png"
    assert Image.open(io.BytesIO(data)).size == (50, 50)


def test_lossy_webp_colours_are_converted_the_way_go_converts_them(tmp_path: Path) -> None:
    # Go reads VP8's limited-range YUV as full range: (200, 60, 30) comes back as (191, 67, 41).
    path = save(tmp_path, "a.webp", Image.new("RGB", (64, 64), (200, 60, 30)), "WEBP", quality=100)
    thumb, _ = thumb_of(path, "300x300f", "image/webp")
    assert all(abs(a - b) <= 1 for a, b in zip(thumb.getpixel((10, 10)), (191, 67, 41), strict=False))


def test_animated_webp_is_refused_like_gos_decoder(tmp_path: Path) -> None:
    frames = [pattern(60, 40), Image.new("RGB", (60, 40), (0, 0, 255))]
    path = save(tmp_path, "a.webp", frames[0], "WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(ThumbError):
        make_thumb(path, parse_thumb("20x0"), "image/webp", BIG)


def test_alpha_png_keeps_straight_alpha_colour_of_faint_pixels(tmp_path: Path) -> None:
    im = Image.new("RGBA", (200, 160), (200, 100, 50, 3))
    im.paste((0, 0, 0, 0), (0, 0, 100, 160))
    thumb, content_type = thumb_of(save(tmp_path, "a.png", im, "PNG"), "40x30f", "image/png")
    assert (thumb.mode, content_type, thumb.size) == ("RGBA", "image/png", (37, 30))
    assert thumb.getpixel((36, 15)) == (200, 100, 50, 3)  # premultiplied 8-bit would lose this
    assert thumb.getpixel((0, 15)) == (0, 0, 0, 0)


@pytest.mark.parametrize("alpha", [0, 1, 3, 128, 254])
def test_one_alpha_for_every_pixel_gives_the_colours_of_the_float_pass(tmp_path: Path, alpha: int) -> None:
    """The shortcut for a shared alpha (the weights cancel) against Go's float weighting,
    which the same image takes when one pixel's alpha differs from the rest."""
    im = pattern(300, 200).convert("RGBA")
    im.putalpha(alpha)
    varied = im.copy()
    varied.putpixel((299, 199), (*im.getpixel((299, 199))[:3], alpha + 1))
    shortcut, _ = thumb_of(save(tmp_path, "same.png", im, "PNG"), "100x50", "image/png")
    weighted, _ = thumb_of(save(tmp_path, "varied.png", varied, "PNG"), "100x50", "image/png")
    assert shortcut.size == weighted.size == (100, 50)
    if alpha == 0:
        assert shortcut.getextrema() == ((0, 0),) * 4  # as Go leaves pixels with no alpha at all
    # the bottom-right output pixel is the varied pixel's: compare the rest
    weighted.putpixel((99, 49), shortcut.getpixel((99, 49)))
    assert max(high for _, high in ImageChops.difference(shortcut, weighted).getextrema()) <= 1


def test_strips_worked_on_at_once_give_the_pixels_of_one_pass(tmp_path: Path, monkeypatch) -> None:
    im = pattern(300, 200).convert("RGBA")
    im.putalpha(Image.linear_gradient("L").resize((300, 200)))  # every row its own alpha: the float pass
    path = save(tmp_path, "a.png", im, "PNG")
    monkeypatch.setattr(generate, "STRIP_PIXELS", 10**9)
    whole, _ = make_thumb(path, parse_thumb("70x45"), "image/png", BIG)
    monkeypatch.setattr(generate, "STRIP_PIXELS", 900)  # three rows or columns a strip: dozens of strips
    stripped, _ = make_thumb(path, parse_thumb("70x45"), "image/png", BIG)
    assert stripped == whole


def test_opaque_rgba_png_gives_an_rgb_png(tmp_path: Path) -> None:
    im = pattern(60, 40).convert("RGBA")
    thumb, _ = thumb_of(save(tmp_path, "a.png", im, "PNG"), "20x0", "image/png")
    assert thumb.mode == "RGB"


def test_16_bit_grey_png_keeps_the_high_byte(tmp_path: Path) -> None:
    im = Image.frombytes("I;16", (60, 40), struct.pack("<H", 0x81FF) * 60 * 40)
    thumb, _ = thumb_of(save(tmp_path, "g.png", im, "PNG"), "20x0", "image/png")
    assert thumb.getpixel((5, 5)) == (0x81, 0x81, 0x81)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("garbage.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        ("text.jpg", b"hello, not an image"),
        ("empty.gif", b""),
    ],
)
def test_corrupt_image_raises_thumb_error(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ThumbError):
        make_thumb(str(path), parse_thumb("20x0"), "image/png", BIG)


def test_truncated_jpeg_raises_thumb_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    buffer = io.BytesIO()
    pattern(300, 200).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ThumbError):
        make_thumb(str(path), parse_thumb("20x0"), "image/jpeg", BIG)


def test_formats_without_thumbs_are_refused(tmp_path: Path) -> None:
    path = save(tmp_path, "a.bmp", pattern(60, 40), "BMP")
    with pytest.raises(ThumbError):
        make_thumb(path, parse_thumb("20x0"), "image/png", BIG)


def test_image_over_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    path = save(tmp_path, "a.png", pattern(100, 100), "PNG")
    with pytest.raises(ThumbError, match="pixel limit"):
        make_thumb(path, parse_thumb("20x0"), "image/png", 9_999)


def test_bomb_header_is_refused_before_decoding(tmp_path: Path) -> None:
    # A 1x1 PNG whose header claims 100000x100000: refused from the header alone, at once.
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    struct.pack_into(">II", data, 16, 100_000, 100_000)
    path = tmp_path / "bomb.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ThumbError):
        make_thumb(str(path), parse_thumb("20x0"), "image/png", BIG)


def test_thumb_size_over_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    path = save(tmp_path, "a.png", pattern(10, 10), "PNG")
    with pytest.raises(ThumbError, match="pixel limit"):
        make_thumb(path, parse_thumb("20000x20000"), "image/png", 1_000_000)
