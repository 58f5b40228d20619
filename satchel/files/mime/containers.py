"""Archives and the formats built on them: zip and what is inside it (OOXML, ODF, EPUB, JAR,
APK), Chrome extensions, tar and cpio."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .scan import Test, at, u16le, u32le


def zip_archive(b: bytes) -> bool:
    return len(b) > 3 and b[:2] == b"PK" and b[2] in (3, 5, 7) and b[3] in (4, 6, 8)


def zip_names(b: bytes, limit: int) -> Iterator[bytes]:
    """Names of up to `limit` local file headers, found by scanning for their signature."""
    i = 0
    for _ in range(limit):
        i = b.find(b"PK\x03\x04", i)
        if i == -1 or i + 30 > len(b):
            return
        size, i = u16le(b, i + 26), i + 30
        if len(b) - i < size or size == 0:
            return
        yield b[i:i + size]


def zip_has(names: tuple[bytes, ...], limit: int = 100) -> Test:
    """One of the first `limit` entries is named one of `names`."""
    return lambda b: any(n in names for n in zip_names(b, limit))


_OOXML_FIRST = (b"_rels/", b"docProps/", b"customXml/", b"[trash]/")


def ooxml(folder: bytes) -> Test:
    """An entry under `folder`, in a zip whose first entry is one Office itself writes first."""
    def test(b: bytes) -> bool:
        for k, name in enumerate(zip_names(b, 100)):
            if name.startswith(folder):
                return True
            if k == 0 and name != b"[Content_Types].xml" and not name.startswith(_OOXML_FIRST):
                return False
        return False
    return test


def declared(mime: str) -> Test:
    """ODF/EPUB: a stored first entry named "mimetype" holding the type."""
    return at(30, b"mimetype" + mime.encode())


def jar(b: bytes) -> bool:
    """The 0xCAFE extra field of executable jars, or a first entry under META-INF/.

    Out-of-range skips leave the position where it was, as mimetype's scanner does.
    """
    i = 26 if len(b) >= 26 else 0
    if len(b) - i >= 2:
        skip, i = u16le(b, i) + 2, i + 2
        i += skip if len(b) - i >= skip else 0
        if len(b) - i >= 2 and u16le(b, i) == 0xCAFE:
            return True
    return zip_has((b"META-INF/", b"META-INF/MANIFEST.MF"), 1)(b)


_APK_ENTRIES = (b"AndroidManifest.xml", b"classes.dex", b"resources.arsc", b"res/drawable",
                b"META-INF/com/android/build/gradle/app-metadata.properties")


def apk(b: bytes) -> bool:
    """A zipflinger virtual entry (all-zero stored, unnamed) or a typical Android entry."""
    zipflinger = (b"PK\x03\x04" in b and len(b) >= 30 and u16le(b, 8) == 0
                  and b[14:28] == bytes(14) and len(b) - 30 >= u16le(b, 28))
    return zipflinger or zip_has(_APK_ENTRIES)(b)


def crx(b: bytes) -> bool:
    """A Chrome extension header, then a zip after its key and signature."""
    if len(b) < 16 or not b.startswith(b"Cr24"):
        return False
    start = 16 + u32le(b, 8) + u32le(b, 12)
    return len(b) >= start and zip_archive(b[start:])


def tar(b: bytes) -> bool:
    """The header checksum (unsigned or signed byte sum) matches the octal field."""
    if len(b) < 512 or b"/gpkg-1\x00" in b[:100]:
        return False
    field = b[148:156].strip(b" \x00").split(b"\x00")[0]
    if not re.fullmatch(rb"[0-7]+", field):
        return False
    recorded = int(field, 8)
    header = b[:148] + b" " * 8 + b[156:512]
    return recorded in (sum(header), sum(c - 256 if c > 127 else c for c in header))


def cpio(b: bytes) -> bool:
    return len(b) >= 6 and (u16le(b, 0) == 0o70707 or b[:6] in (b"070707", b"070701", b"070702"))
