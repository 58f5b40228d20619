"""Decode a big PNG a band of rows at a time, inflating with zlib-ng.

Pillow decodes a PNG whole (400 MB for the 10000×10000 RGBA an attacker sends as 400 KB) and
inflates it with the system's zlib, whose copies of long repeats run at ~250 MB/s: 1.3–2 s for
that file here, more than PocketBase's whole thumb. zlib-ng inflates it in 0.04 s. So zlib-ng
inflates the IDAT stream, and Pillow's own PNG decoder only undoes the row filters, fed the
inflated rows as stored (uncompressed) deflate blocks. Each band is handed over as soon as it is
decoded: the caller resizes one band while the next is decoded, and the full-size image is
never held.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from PIL import Image, ImageFile

# 8-bit modes whose PNG rows Pillow stores as they come (raw mode = mode): a band's last row,
# read back with tobytes(), is the unfiltered row the next band's filters refer to.
_MODES = ("RGBA", "RGB", "LA", "L")
_STORED_MAX = 0xFFFF  # bytes in one stored deflate block
_ZLIB_HEADER = b"\x78\x01"


def bandable(im: ImageFile.ImageFile) -> bool:
    """Whether `im` is a PNG that `bands` can decode (others go through Pillow's whole decode)."""
    return (
        im.format == "PNG"
        and im.mode in _MODES
        and not im.info.get("interlace")
        and "transparency" not in im.info
        and len(im.tile) == 1
        and im.tile[0].codec_name == "zip"
        and im.tile[0].args == im.mode
    )


def bands(im: ImageFile.ImageFile, path: str, rows: int) -> Iterator[tuple[int, Image.Image]]:
    """(first source row, band) pairs, top to bottom, for a `bandable` image.

    A band after the first starts with the previous band's last row again (that row is what its
    first row's filter refers to). Raises OSError on data that ends early or is corrupt.
    """
    from zlib_ng import zlib_ng  # here, not at the top: only big images (worker processes) need it

    width, height = im.size
    row_bytes = 1 + width * len(im.mode)
    inflate = zlib_ng.decompressobj()
    chunks = _idat_chunks(path)
    pending = b""
    previous: bytes | None = None
    for start in range(0, height, rows):
        first, count = start, min(rows, height - start)
        want = count * row_bytes
        stream: list[bytes | memoryview] = [_ZLIB_HEADER]
        if previous is not None:
            stream += _stored(b"\0" + previous)  # filter "none": the row as it is
            first, count = start - 1, count + 1
        while want:
            if not pending:
                pending = b"" if inflate.eof else next(chunks, b"")
                if not pending:
                    raise OSError("PNG image data ends early")
            out = inflate.decompress(pending, min(want, _STORED_MAX))
            pending = inflate.unconsumed_tail
            stream += _stored(out)
            want -= len(out)
        band = Image.new(im.mode, (width, count), None)  # None: not cleared, every row is written
        decoder = Image._getdecoder(im.mode, "zip", im.mode)
        try:
            decoder.setimage(band.im, (0, 0, width, count))
            _, error = decoder.decode(b"".join(stream))
        finally:
            decoder.cleanup()
        if error < 0:
            raise OSError(f"PNG image data is broken (decoder error {error})")
        previous = band.crop((0, count - 1, width, count)).tobytes()
        yield first, band


def _idat_chunks(path: str) -> Iterator[bytes]:
    """The IDAT chunks' payloads, in order (Pillow, too, leaves their CRCs unchecked)."""
    with open(path, "rb") as f:
        f.seek(8)
        seen = False
        while len(header := f.read(8)) == 8:
            length, kind = struct.unpack(">I4s", header)
            if kind != b"IDAT":
                if seen:
                    return
                f.seek(length + 4, 1)
                continue
            seen = True
            yield f.read(length)
            f.seek(4, 1)


def _stored(data: bytes) -> list[bytes | memoryview]:
    """`data` as stored (uncompressed) deflate blocks, none of them final."""
    view = memoryview(data)
    blocks: list[bytes | memoryview] = []
    for start in range(0, len(data), _STORED_MAX):
        size = min(_STORED_MAX, len(data) - start)
        blocks += (struct.pack("<BHH", 0, size, size ^ 0xFFFF), view[start : start + size])
    return blocks
