"""Make one thumb with Pillow the way PocketBase's `CreateThumb` does (spec §6).

Geometry comes from `geometry.plan_thumb`, so sizes always equal PocketBase's; pixels follow
Go's decoders and `imaging.Linear` as closely as Pillow allows. Blocking and CPU-bound:
`service.Thumbs` runs it in a worker thread.
"""

from __future__ import annotations

import functools
import io
import math
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import cast

from PIL import Image, ImageFile, ImageMath, JpegImagePlugin

from .geometry import Box, Plan, Size, plan_thumb
from .png_bands import bandable, bands
from .spec import ThumbSize

FloatBox = tuple[float, float, float, float]

STRIP_PIXELS = 1 << 19  # pixels per strip of a float resize pass (2 MiB float planes), and per band of a big PNG
STRIP_THREADS = 2  # strips worked on at once: Pillow lets go of the interpreter lock for most of it
BANDED_FROM = 4 * STRIP_PIXELS  # pixels from which a PNG is decoded and shrunk a band at a time

# Stored types that get thumbs are sniffed from content (spec §5.2), so these decoders are all
# that is needed; refusing the rest keeps Pillow's rarer parsers away from uploaded bytes.
_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")

# EXIF orientation -> the transpose that makes the image upright (imaging's fixOrientation).
_ORIENT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Which upright axes (x, y) run backwards through the stored pixels, per orientation.
_FLIPS = {
    2: (True, False),
    3: (True, True),
    4: (False, True),
    6: (True, False),
    7: (True, True),
    8: (False, True),
}


def _vp8_to_go_matrix() -> tuple[float, ...]:
    """RGB as libwebp decodes it -> back to YCbCr (BT.601 limited range) -> RGB by JFIF rules."""
    to_limited = (
        (0.256788, 0.504129, 0.097906),
        (-0.148223, -0.290993, 0.439216),
        (0.439216, -0.367788, -0.071427),
    )
    jfif = ((1.0, 0.0, 1.402), (1.0, -0.344136, -0.714136), (1.0, 1.772, 0.0))
    matrix: list[float] = []
    for row in jfif:
        # Cb and Cr offsets (128) cancel out; Y's offset (16) passes through the first column.
        matrix += [sum(row[k] * to_limited[k][c] for k in range(3)) for c in range(3)] + [16.0 * row[0]]
    return tuple(matrix)


_VP8_TO_GO = _vp8_to_go_matrix()


class ThumbError(Exception):
    """No thumb can be made (corrupt, unsupported or oversized image): serve the original."""


def plan9_palette() -> list[int]:
    """Go's `palette.Plan9` as flat RGB, built the way Go's gen.go builds it."""
    colors = [(0, 0, 0)] * 256
    for r in range(4):
        for v in range(4):
            for g in range(4):
                for b in range(4):
                    den = max(r, g, b)
                    if den == 0:
                        color = (17 * v, 17 * v, 17 * v)
                    else:
                        num = 17 * (4 * den + v)
                        color = (r * num // den, g * num // den, b * num // den)
                    colors[64 * r + 16 * v + ((v - r + 4 * g + b) & 15)] = color
    return [channel for color in colors for channel in color]


_PLAN9 = Image.new("P", (1, 1))
_PLAN9.putpalette(plan9_palette())
_PLAN9.load()  # settle the palette now: worker threads share this image


def make_thumb(src_path: str, size: ThumbSize, stored_type: str, max_pixels: int) -> tuple[bytes, str]:
    """Return (encoded thumb, content type) for the image at `src_path`, or raise ThumbError."""
    try:
        with Image.open(src_path, formats=_FORMATS) as im:
            go_colours = im.format == "WEBP" and _is_lossy_webp(src_path)
            return _make(im, src_path, size, stored_type, max_pixels, go_colours)
    except ThumbError:
        raise
    except Exception as exc:  # decoders raise many types; any of them means "no thumb"
        raise ThumbError(f"cannot make a {size} thumb: {exc}") from exc


def _make(
    im: ImageFile.ImageFile, path: str, size: ThumbSize, stored_type: str, max_pixels: int, go_colours: bool
) -> tuple[bytes, str]:
    # Don't let a small file declare a huge canvas: check every size before decoding pixels.
    _guard(im.size, max_pixels)
    bounds = _gif_frame_box(im)
    width, height = (bounds[2] - bounds[0], bounds[3] - bounds[1]) if bounds else im.size
    orientation = _orientation(im)
    src = (width, height) if orientation < 5 else (height, width)
    plan = plan_thumb(*src, size)
    for step in (plan.resize_to, plan.size):
        if step is not None:
            _guard(step, max_pixels)
    if _banded_fits(im, plan):
        return _encode(_apply_banded(bands(im, path, max(1, STRIP_PIXELS // im.width)), im.size, plan), stored_type)
    shrink = _shrink_factor(plan, src)
    if shrink > 1 and im.draft(im.mode, (im.width // shrink, im.height // shrink)) is None:
        shrink = 1  # not a JPEG: no shrink-on-load
    frame, alpha = _decode(im, bounds)
    if go_colours:
        frame = _vp8_as_go_decodes(frame)
    if orientation in _ORIENT:
        frame = frame.transpose(_ORIENT[orientation])
    if shrink > 1:
        flips = _FLIPS.get(orientation, (False, False))
        thumb = _apply_shrunk(frame, plan, _shrunk_box(plan, src, frame.size, shrink, flips))
    else:
        thumb = _apply(frame, plan, alpha)
    return _encode(thumb, stored_type)


def _guard(size: Size, max_pixels: int) -> None:
    if size[0] * size[1] > max_pixels:
        raise ThumbError(f"{size[0]}x{size[1]} pixels is over the {max_pixels} pixel limit")


def _is_lossy_webp(path: str) -> bool:
    """Whether Go decodes a `VP8 ` (lossy) chunk here rather than `VP8L`; refuse when neither.

    Go decodes the first top-level VP8/VP8L chunk. An animated WebP keeps its frames inside
    ANMF chunks, so Go finds none and fails: the original is served.
    """
    with open(path, "rb") as f:
        f.seek(12)  # "RIFF", size, "WEBP"
        while len(header := f.read(8)) == 8:
            fourcc, length = header[:4], int.from_bytes(header[4:], "little")
            if fourcc in (b"VP8 ", b"VP8L"):
                return fourcc == b"VP8 "
            f.seek(length + (length & 1), io.SEEK_CUR)
    raise ThumbError("WebP without a top-level VP8/VP8L chunk (animated?): Go cannot decode it")


def _vp8_as_go_decodes(frame: Image.Image) -> Image.Image:
    """Lossy WebP colours as Go shows them: Go converts VP8's limited-range YUV as if full range."""
    alpha = frame.getchannel("A") if frame.mode == "RGBA" else None
    rgb = frame.convert("RGB", _VP8_TO_GO)
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb


def _gif_frame_box(im: ImageFile.ImageFile) -> Box | None:
    """A GIF's first frame rectangle: Go decodes that frame alone, not the whole canvas."""
    if im.format != "GIF" or not im.tile:
        return None
    extents = im.tile[0].extents
    if extents is None:
        return None
    left, top, right, bottom = extents
    return left, top, min(right, im.width), min(bottom, im.height)


def _orientation(im: ImageFile.ImageFile) -> int:
    """The EXIF orientation, read only where Go's imaging reads it: a JPEG's first APP1."""
    if not isinstance(im, JpegImagePlugin.JpegImageFile):  # MPO is one too
        return 1
    app1 = next((data for marker, data in im.applist if marker == "APP1"), b"")
    if not app1.startswith(b"Exif"):
        return 1
    value = im.getexif().get(0x0112, 1)
    return value if value in _ORIENT else 1


def _shrink_factor(plan: Plan, src: Size) -> int:
    """The largest JPEG shrink-on-load factor (8, 4, 2) that still leaves the resize a downscale.

    Only factors whose output covers every pixel the resize needs, so output sizes never change.
    """
    if plan.resize_to is None:
        return 1
    left, top, right, bottom = plan.crop_before or (0, 0, *src)
    most = min((right - left) // plan.resize_to[0], (bottom - top) // plan.resize_to[1])
    return next((factor for factor in (8, 4, 2) if factor <= most), 1)


def _decode(im: Image.Image, bounds: Box | None) -> tuple[Image.Image, int | None]:
    """Decode to 8-bit RGB, or RGBA when some pixel is not opaque (Go's NRGBA, opaque or not);
    with the alpha every pixel shares, when they all share one."""
    if bounds is not None and bounds != (0, 0, *im.size):
        im = im.crop(bounds)
    if im.mode.startswith("I;16"):
        im = im.convert("I").point(lambda v: v / 256).convert("L")  # Go keeps the high byte
    if "A" not in im.mode and "transparency" not in im.info:
        return (im if im.mode == "RGB" else im.convert("RGB")), None
    rgba = im if im.mode == "RGBA" else im.convert("RGBA")  # no full-size copy when it already is
    low, high = cast(tuple[int, int], rgba.getchannel("A").getextrema())  # alpha alone: Image.getextrema copies every band
    if low == high == 255:
        return rgba.convert("RGB"), None
    return rgba, (low if low == high else None)


def _apply(frame: Image.Image, plan: Plan, alpha: int | None = None) -> Image.Image:
    """Run the plan on a full-size frame (`alpha`: the one alpha all its pixels share, if so)."""
    if plan.crop_before is not None and plan.crop_before != (0, 0, *frame.size):  # Pillow copies even a full crop
        frame = frame.crop(plan.crop_before)
    if plan.resize_to is not None:
        frame = _resize(frame, plan.resize_to, alpha)
    if plan.crop_after is not None:
        frame = frame.crop(plan.crop_after)
    return frame


def _banded_fits(im: ImageFile.ImageFile, plan: Plan) -> bool:
    """Whether `_apply_banded` can run the plan: a big PNG whose width the resize changes."""
    if plan.resize_to is None or im.width * im.height < BANDED_FROM or not bandable(im):
        return False
    left, _, right, _ = plan.crop_before or (0, 0, *im.size)
    return plan.resize_to[0] != right - left


def _apply_banded(parts: Iterator[tuple[int, Image.Image]], size: Size, plan: Plan) -> Image.Image:
    """Run the plan band by band: each band's horizontal pass while the next is decoded.

    The horizontal pass treats every row on its own, so bands give the pixels the whole
    frame gives, but for one thing: a band whose pixels share one alpha takes the cheap pass
    even where the frame's don't (within a level of the float pass; Go's weights cancel).
    """
    assert plan.resize_to is not None
    left, top, right, bottom = plan.crop_before or (0, 0, *size)
    width = plan.resize_to[0]
    out = Image.new("RGBA", (width, bottom - top))

    def shrink(piece: Image.Image) -> Image.Image:
        piece, alpha = _decode(piece, None)
        if piece.mode != "RGBA":
            return piece.resize((width, piece.height), Image.Resampling.BILINEAR)
        return _pass_for(alpha)(piece, (width, piece.height))

    done = top  # source rows before this one are handed over
    working: deque[tuple[int, Future[Image.Image]]] = deque()
    with ThreadPoolExecutor(STRIP_THREADS, thread_name_prefix="thumb-bands") as pool:
        for first, band in parts:
            end = min(first + band.height, bottom)
            if end > done:
                piece = band.crop((left, done - first, right, end - first))
                working.append((done - top, pool.submit(shrink, piece)))
                done = end
            while len(working) > STRIP_THREADS:
                at, part = working.popleft()
                out.paste(part.result(), (0, at))
            if done >= bottom:
                break
        for at, part in working:
            out.paste(part.result(), (0, at))
    frame, alpha = _decode(out, None)
    frame = _resize(frame, plan.resize_to, alpha)
    return frame.crop(plan.crop_after) if plan.crop_after is not None else frame


def _shrunk_box(plan: Plan, src: Size, frame: Size, shrink: int, flips: tuple[bool, bool]) -> FloatBox:
    """Where the plan's first crop lies, in pixels of a frame decoded at 1/`shrink`.

    Pixel i of a shrunk JPEG covers source pixels [k*i, k*i + k), so the last one may be
    partial, and orientation can move that partial pixel to the start of an axis.
    """
    pad_x = frame[0] * shrink - src[0] if flips[0] else 0
    pad_y = frame[1] * shrink - src[1] if flips[1] else 0
    left, top, right, bottom = plan.crop_before or (0, 0, *src)
    return (
        (left + pad_x) / shrink,
        (top + pad_y) / shrink,
        (right + pad_x) / shrink,
        (bottom + pad_y) / shrink,
    )


def _apply_shrunk(frame: Image.Image, plan: Plan, box: FloatBox) -> Image.Image:
    """Run the plan on a shrunk frame (an opaque JPEG), whose crop box is fractional."""
    # Crop the whole pixels around the box first: Go never samples outside its crop.
    x0, y0 = math.floor(box[0]), math.floor(box[1])
    frame = frame.crop((x0, y0, math.ceil(box[2]), math.ceil(box[3])))
    inner = (box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0)
    frame = frame.resize(plan.resize_to, Image.Resampling.BILINEAR, box=inner)
    if plan.crop_after is not None:
        frame = frame.crop(plan.crop_after)
    return frame


def _resize(im: Image.Image, size: Size, alpha: int | None = None) -> Image.Image:
    """Bilinear resize, horizontal pass first, each pass rounded to 8 bits, as in Go.

    With one alpha shared by every pixel, Go's alpha weights cancel out (or, at 0, leave
    nothing): the colour is a plain resize, a quarter of the float work's cost.
    """
    if im.mode != "RGBA":
        return im.resize(size, Image.Resampling.BILINEAR)
    one_pass = _pass_for(alpha)
    if im.width != size[0]:
        im = _straight_alpha_pass(im, (size[0], im.height), one_pass)
    if im.height != size[1]:
        im = _straight_alpha_pass(im, size, one_pass)
    return im


def _pass_for(alpha: int | None) -> Callable[[Image.Image, Size], Image.Image]:
    """The one-axis RGBA resize for pixels that share `alpha` (None: they don't)."""
    return _float_pass if alpha is None else functools.partial(_uniform_alpha_pass, alpha=alpha)


def _straight_alpha_pass(im: Image.Image, size: Size, one_pass: Callable[[Image.Image, Size], Image.Image]) -> Image.Image:
    """One resize pass over RGBA that weights colour by alpha in float, like Go's imaging.

    Pillow's own RGBA resize premultiplies into 8 bits, which wrecks the colour of faint
    pixels (alpha 3 keeps 2 bits of colour); float bands keep it. Float bands cost 16 bytes
    a pixel, so a big image goes through in strips along the axis that keeps its length:
    a one-axis resize treats each row (or column) on its own, so strips give the same pixels,
    and STRIP_THREADS of them are worked on at once.
    """
    horizontal = size[0] != im.width
    across = im.height if horizontal else im.width
    step = max(1, STRIP_PIXELS // (im.width if horizontal else im.height))
    if across <= step:
        return one_pass(im, size)

    def strip(start: int) -> tuple[Image.Image, tuple[int, int]]:
        end = min(start + step, across)
        if horizontal:
            return one_pass(im.crop((0, start, im.width, end)), (size[0], end - start)), (0, start)
        return one_pass(im.crop((start, 0, end, im.height)), (end - start, size[1])), (start, 0)

    im.load()  # before the threads share it
    out = Image.new("RGBA", size)
    with ThreadPoolExecutor(STRIP_THREADS, thread_name_prefix="thumb-strips") as strips:
        for part, at in strips.map(strip, range(0, across, step)):
            out.paste(part, at)
    return out


def _uniform_alpha_pass(im: Image.Image, size: Size, alpha: int) -> Image.Image:
    if alpha == 0:
        return Image.new("RGBA", size)  # Go leaves a pixel with no alpha at all zeros
    out = im.convert("RGB").resize(size, Image.Resampling.BILINEAR)
    out.putalpha(alpha)
    return out


def _float_pass(im: Image.Image, size: Size) -> Image.Image:
    bands = [band.convert("F") for band in im.split()]
    alpha = bands[3].resize(size, Image.Resampling.BILINEAR)
    out = []
    for colour in bands[:3]:
        weighted = ImageMath.lambda_eval(lambda v: v["c"] * v["a"], c=colour, a=bands[3])
        weighted = weighted.resize(size, Image.Resampling.BILINEAR)
        # ImageMath gives 0 for x/0, as Go leaves a pixel with no alpha at all zeros;
        # +0.5 then truncating to L is Go's clamp().
        out.append(
            ImageMath.lambda_eval(
                lambda v: v["convert"](v["w"] / v["a"] + 0.5, "L"), w=weighted, a=alpha
            )
        )
    out.append(ImageMath.lambda_eval(lambda v: v["convert"](v["a"] + 0.5, "L"), a=alpha))
    return Image.merge("RGBA", out)


def _encode(im: Image.Image, stored_type: str) -> tuple[bytes, str]:
    """Encode like PocketBase: JPEG stays JPEG, GIF stays GIF, everything else becomes PNG."""
    out = io.BytesIO()
    if stored_type in ("image/jpeg", "image/jpg"):
        im.convert("RGB").save(out, "JPEG", quality=95, subsampling="4:2:0")
        return out.getvalue(), "image/jpeg"
    if stored_type == "image/gif":
        paletted = _over_black(im).quantize(palette=_PLAN9, dither=Image.Dither.FLOYDSTEINBERG)
        paletted.save(out, "GIF", optimize=False)
        return out.getvalue(), "image/gif"
    if im.mode == "RGBA" and im.getchannel("A").getextrema() == (255, 255):
        im = im.convert("RGB")  # Go's PNG encoder writes RGB when every pixel is opaque
    im.save(out, "PNG")
    return out.getvalue(), "image/png"


def _over_black(im: Image.Image) -> Image.Image:
    """RGB over black: Go dithers premultiplied colour, so transparency turns black."""
    if im.mode != "RGBA":
        return im
    flat = Image.new("RGB", im.size)
    flat.paste(im, mask=im.getchannel("A"))
    return flat
