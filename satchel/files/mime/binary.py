"""Signatures of other binary formats: executables and bytecode, fonts, and document, data and
scientific files whose test is more than a fixed prefix."""

from __future__ import annotations

from .scan import ICASE, Test, match, u16le, u32be, u32le
from .text import plain_text


def either_endian(*magics: int) -> Test:
    """The first four bytes are one of `magics`, read big- or little-endian."""
    return lambda b: len(b) >= 4 and (u32be(b, 0) in magics or u32le(b, 0) in magics)


_MACHO = either_endian(0xFEEDFACE, 0xFEEDFACF)
pcap = either_endian(0xA1B2C3D4, 0xA1B23C4D)


def macho(b: bytes) -> bool:
    """A universal (fat) binary with few architectures, or a 32/64-bit Mach-O of either order."""
    return (len(b) >= 8 and u32be(b, 0) == 0xCAFEBABE and b[7] < 0x14) or _MACHO(b)


def java_class(b: bytes) -> bool:
    """0xCAFEBABE with a class-file major version (fat Mach-O binaries use small numbers)."""
    return len(b) >= 8 and u32be(b, 0) == 0xCAFEBABE and b[7] > 30


def elf(kind: int) -> Test:
    """An ELF file of type `kind` (relocatable, executable, shared, core) in either order."""
    return lambda b: len(b) > 17 and (b[16], b[17]) in ((kind, 0), (0, kind))


def pyc(b: bytes) -> bool:
    if len(b) < 8:
        return False
    if u32be(b, 0) in _PYC_MAGIC:
        return True
    if b[2:4] != b"\r\n" or u32le(b, 4) > 3:
        return False
    return b[1] in (0x0D, 0x0E) or u16le(b, 0) in (240, 256, 336, 384, 416)


_PYC_MAGIC = frozenset(int(h, 16) for h in (
    "02099900 03099900 892e0d0a 04170d0a 994e0d0a fcc40d0a fdc40d0a 87c60d0a 88c60d0a 2aeb0d0a "
    "2beb0d0a 2ded0d0a 2eed0d0a 3bf20d0a 3cf20d0a 45f20d0a 59f20d0a 63f20d0a 6df20d0a 6ef20d0a "
    "77f20d0a 81f20d0a 8bf20d0a 8cf20d0a 95f20d0a 9ff20d0a a9f20d0a b3f20d0a b4f20d0a c7f20d0a "
    "d1f20d0a d2f20d0a dbf20d0a e5f20d0a eff20d0a f9f20d0a 03f30d0a 04f30d0a 0af30d0a b80b0d0a "
    "c20b0d0a cc0b0d0a d60b0d0a e00b0d0a ea0b0d0a f40b0d0a f50b0d0a ff0b0d0a 090c0d0a 130c0d0a "
    "1d0c0d0a 1f0c0d0a 270c0d0a 3b0c0d0a 450c0d0a 4f0c0d0a 580c0d0a 620c0d0a 6c0c0d0a 760c0d0a "
    "800c0d0a 8a0c0d0a 940c0d0a 9e0c0d0a b20c0d0a bc0c0d0a c60c0d0a d00c0d0a da0c0d0a e40c0d0a "
    "ee0c0d0a f80c0d0a 020d0d0a 0c0d0d0a 160d0d0a 170d0d0a 200d0d0a 210d0d0a 2a0d0d0a 2b0d0d0a "
    "2c0d0d0a 2d0d0d0a 2f0d0d0a 300d0d0a 310d0d0a 320d0d0a 330d0d0a 3e0d0d0a 3f0d0d0a").split())


# ---------------------------------------------------------------- fonts

def ttf(b: bytes) -> bool:
    return b.startswith(b"\x00\x01\x00\x00") and len(b) >= 16 and b[12:16] in _SFNT_TABLES


_SFNT_TABLES = frozenset(t.replace(b"_", b" ") for t in (
    b"acnt ankr avar bdat bhed bloc bsln cmap cvar cvt_ EBSC fdsc feat fmtx fond fpgm fvar gasp "
    b"gcid glyf gvar hdmx head hhea hmtx hvgl hvpm just kern kerx lcar loca ltag maxp meta mort "
    b"morx name opbd OS/2 GSUB GPOS BASE JSTF GDEF MATH CBDT CBLC CFF_ CFF2 COLR CPAL DSIG EBDT "
    b"EBLC HVAR LTSH MERG MVAR PCLT post prep sbix STAT SVG_ VDMX vhea vmtx VORG VVAR").split())


def otf(b: bytes) -> bool:
    return len(b) > 48 and b.startswith(b"OTTO\x00") and b"CFF " in b[12:48]


def ttc(b: bytes) -> bool:
    return len(b) > 7 and b[:4] == b"ttcf" and b[4:8] in (b"\x00\x01\x00\x00", b"\x00\x02\x00\x00")


def eot(b: bytes) -> bool:
    versions = (b"\x02\x00\x01", b"\x01\x00\x00", b"\x02\x00\x02")
    return len(b) > 35 and b[34:36] == b"LP" and b[8:11] in versions


# ---------------------------------------------------------------- documents and data

def p7s(b: bytes) -> bool:
    """PEM, or a DER SEQUENCE whose content type OID is PKCS#7."""
    if b.startswith(b"-----BEGIN PKCS7"):
        return True
    if len(b) < 20 or b[0] != 0x30 or not 0x80 <= b[1] <= 0x84:
        return False
    return b.startswith(b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07", b[1] - 0x80 + 2)


def lotus(b: bytes) -> bool:
    if len(b) <= 20:
        return False
    version = u32be(b, 0)
    if version == 0x200:
        return b[6] != 0 and b[7] == 0
    return version == 0x1A00 and 0 < b[20] < 32


def dbf(b: bytes) -> bool:
    return (len(b) >= 68 and 0 < b[2] <= 12 and 0 < b[3] <= 31 and b[12:14] == b"\0\0"
            and b[30:32] == b"\0\0" and b[28] <= 1 and b[0] in bytes.fromhex(
                "0203040530313242627b8283878a8b8eb3cbe5f5f4fb"))


def dwg(b: bytes) -> bool:
    return len(b) >= 6 and b[:2] == b"AC" and b[2:6] in (
        b"1.40", b"1.50", b"2.10", b"1002", b"1003", b"1004", b"1006", b"1009", b"1012",
        b"1014", b"1015", b"1018", b"1021", b"1024", b"1032")


def marc(b: bytes) -> bool:
    return len(b) >= 24 and b[20:24] == b"4500" and b[:5].isdigit() and b"\x1e" in b[:2048]


def zstd(b: bytes) -> bool:
    sig = u32le(b, 0)
    return len(b) >= 4 and (0xFD2FB522 <= sig <= 0xFD2FB528 or 0x184D2A50 <= sig <= 0x184D2A5F)


def shp(b: bytes) -> bool:
    shapes = (0, 1, 3, 5, 8, 11, 13, 15, 18, 21, 23, 25, 28, 31)
    return (len(b) >= 112 and u32be(b, 0) == 9994 and b[4:24] == bytes(20)
            and u32le(b, 28) == 1000 and u32le(b, 108) in shapes)


def tzif(b: bytes) -> bool:
    return len(b) >= 44 and b[:4] == b"TZif" and u32be(b, 36) != 0 and b[4] in (0, 0x32, 0x33)


def installshield(b: bytes) -> bool:
    return len(b) > 7 and b[:4] == b"ISc(" and b[6] == 0 and b[7] in (1, 2, 4)


def wordperfect(b: bytes) -> bool:
    return len(b) >= 10 and b.startswith(b"\xffWPC") and b[8] == 1 and b[9] == 10


def versioned(magic: bytes, versions: tuple[int, ...]) -> Test:
    """GRIB/BUFR: a magic, then the edition number in byte 7."""
    return lambda b: len(b) > 7 and b[:4] == magic and b[7] in versions


def zlib_stream(b: bytes) -> bool:
    # "x" plus a valid check byte is common in text, hence the text test
    return len(b) > 1 and b[0] == ord("x") and (b[0] << 8 | b[1]) % 31 == 0 and not plain_text(b)


def framemaker(b: bytes) -> bool:
    tagged = (b.startswith((b"<MakerFile", b"<MakerDictionary"))
              or match(b, b"<BOOKFILE", ICASE) != -1)
    return tagged and b"\x00" in b[:512]  # a NUL rules out plain text
