"""MP3: an ID3v2 tag, a common frame sync word at the start, or a run of MPEG layer III frames
whose headers agree, starting within the first 2 KiB."""

from __future__ import annotations


def _header_ok(h: bytes) -> bool:
    """A syntactically valid MPEG layer III frame header (free-format excluded)."""
    return (h[0] == 0xFF and ((h[1] & 0xF0) == 0xF0 or (h[1] & 0xFE) == 0xE2)
            and (h[1] >> 1) & 3 == 1 and h[2] >> 4 not in (0, 15)
            and (h[2] >> 2) & 3 != 3 and h[3] & 3 != 2)


_HALF_KBPS = ((0, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 72, 80),
              (0, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160))


def _frame_len(h: bytes) -> int:
    """Frame length in bytes including padding."""
    mpeg1 = h[1] & 0x08 != 0
    rate = (44100, 48000, 32000)[(h[2] >> 2) & 3]
    if not mpeg1:
        rate //= 2
    if not h[1] & 0x10:  # MPEG 2.5
        rate //= 2
    samples = 576 if h[1] & 0x0E == 2 else 1152
    return samples * 2 * _HALF_KBPS[mpeg1][h[2] >> 4] * 125 // rate + (h[2] >> 1 & 1)


def _stream_at(b: bytes, i: int) -> bool:
    """Up to 10 following headers agree with the one at i (2 suffice when the head runs out)."""
    h, j = b[i:i + 4], i + _frame_len(b[i:i + 4])
    for seen in range(10):
        if j + 4 > len(b):
            return seen >= 2
        nxt = b[j:j + 4]
        if not _header_ok(nxt) or (h[1] ^ nxt[1]) & 0xFE or (h[2] ^ nxt[2]) & 0x0C:
            return False
        j += _frame_len(nxt)
    return True


def _id3v2(b: bytes) -> bool:
    if len(b) < 10 or not b.startswith(b"ID3") or not 2 <= b[3] <= 4 or b[4] or b[5] & 0x0F:
        return False
    if any(c & 0x80 for c in b[6:10]):
        return False
    return 0 < (b[6] << 21 | b[7] << 14 | b[8] << 7 | b[9]) < 10 * 1024 * 1024


def mp3(b: bytes) -> bool:
    """MPEG audio, as mimetype's MP3 test; MO3 and one other look-alike are ruled out."""
    if len(b) < 3:
        return False
    if _id3v2(b) or (b[0] << 8 | b[1]) & 0xFFFE in (0xFFFA, 0xFFF2, 0xFFE2, 0xFFFC, 0xFFF4):
        return True
    if b.startswith((b"MO3", b"\x00\x00\x01\x40\x00\x00\x00\x03\x00\x00")):
        return False
    stop = min(len(b), 2048 + 4) - 4
    i = b.find(b"\xff", 0, stop)
    while i != -1:
        if _header_ok(b[i:i + 4]):
            size = _frame_len(b[i:i + 4])
            if (i + size <= len(b) and _stream_at(b, i)) or (i == 0 and size == len(b)):
                return True
        i = b.find(b"\xff", i + 1, stop)
    return False
