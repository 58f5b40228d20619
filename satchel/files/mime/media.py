"""Image, audio and video signatures that need more than a fixed prefix (MP3 is in mp3.py)."""

from __future__ import annotations

from .scan import Test, u32be, u32le


def apng(b: bytes) -> bool:
    """An acTL chunk before the first IDAT, within 32 chunks."""
    i = 8
    for _ in range(32):
        if i >= len(b):
            return False
        size, i = (u32be(b, i) + 8) & 0xFFFFFFFF, i + 4  # uint32 arithmetic, as in Go
        if b.startswith(b"acTL", i):
            return True
        if b.startswith(b"IDAT", i) or i + size > len(b):
            return False
        i += size
    return False


def jpeg2k(sig: bytes) -> Test:
    """JPEG 2000 family: a jP signature box, then `sig` as the brand."""
    return lambda b: len(b) >= 24 and b[4:8] in (b"jP  ", b"jP2 ") and b[20:24] == sig


def bmp(b: bytes) -> bool:
    dib_header_sizes = (16, 24, 40, 48, 52, 56, 64, 108, 124)
    return len(b) >= 18 and b[:2] == b"BM" and u32le(b, 14) in dib_header_sizes


def brand(*brands: bytes) -> Test:
    """ISO-BMFF major brand, bytes 8..12."""
    return lambda b: len(b) >= 12 and b[8:12] in brands


def _iff(container: bytes, kind: bytes) -> Test:
    """An IFF-style file: `container` (RIFF, FORM), a size, then `kind`."""
    return lambda b: len(b) > 8 + len(kind) and b[:4] == container and b.startswith(kind, 8)


def riff(kind: bytes) -> Test:
    """A RIFF file of `kind` (WAVE, WEBP...)."""
    return _iff(b"RIFF", kind)


aiff = _iff(b"FORM", b"AIFF")
avi = riff(b"AVI LIST")


def quicktime(b: bytes) -> bool:
    if len(b) < 12:
        return False
    if b[4:12] in (b"ftypqt  ", b"ftypmoov"):
        return b[0] == 0
    atoms = (b"moov\x00", b"mdat\x00", b"free\x00", b"skip\x00", b"pnot\x00")
    return b[4:9] in atoms or b[:8] == b"\x00\x00\x00\x08wide"


def matroska(doctype: bytes) -> Test:
    """EBML with a DocType element (0x4282) whose value starts with `doctype`."""
    def test(b: bytes) -> bool:
        if not b.startswith(b"\x1a\x45\xdf\xa3"):
            return False
        i = b.find(b"\x42\x82")
        if i <= 0 or len(b) <= i + 2:
            return False
        width = next((n for n in range(1, 8) if b[i + 2] & (0x80 >> (n - 1))), 8)
        return len(b) > i + 2 + width and b.startswith(doctype, i + 2 + width)
    return test


def mpeg(b: bytes) -> bool:
    return len(b) > 3 and b.startswith(b"\x00\x00\x01") and 0xB0 <= b[3] <= 0xBF


def mp4(b: bytes) -> bool:
    return len(b) >= 12 and b[0] == 0 and b[4:8] == b"ftyp"


def djvu(b: bytes) -> bool:
    kinds = (b"DJVM", b"DJVU", b"DJVI", b"THUM")
    return len(b) >= 12 and b.startswith(b"AT&TFORM") and b[12:16] in kinds


def ogg_payload(*codecs: bytes) -> Test:
    """An Ogg page whose first packet starts with one of `codecs`."""
    return lambda b: len(b) >= 37 and b.startswith(codecs, 28)
