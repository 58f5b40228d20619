"""Text: what counts as text at all (BOMs, binary bytes), and the text formats recognised by
their first lines: scripts by shebang, subtitles, mail, GEDCOM and the Netpbm family."""

from __future__ import annotations

import re

from .scan import CWS, ICASE, WORD, Test, line, lstrip_ws, match

_BINARY_BYTE = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\x00\x00\xfe\xff", "utf-32be"),
         (b"\xff\xfe\x00\x00", "utf-32le"), (b"\xfe\xff", "utf-16be"), (b"\xff\xfe", "utf-16le"))
UTF8_BOM = b"\xef\xbb\xbf"


def bom(b: bytes) -> str:
    """The charset named by a leading byte order mark, or ""."""
    return next((name for mark, name in _BOMS if b.startswith(mark)), "")


def plain_text(b: bytes) -> bool:
    """A BOM, or no byte the WHATWG mime-sniffing spec calls binary."""
    return bool(bom(b)) or not _BINARY_BYTE.search(b)


def ci_prefix(*sigs: bytes) -> Test:
    """Starts with one of `sigs` (upper-case letters in them match either case), then more."""
    return lambda b: any(len(b) > len(s) and match(b, s, ICASE) != -1 for s in sigs)


# ---------------------------------------------------------------- scripts

def shebang(*interpreters: tuple[bytes, int]) -> Test:
    """A "#!" first line naming one of `interpreters` (patterns from runs())."""
    def test(b: bytes) -> bool:
        first = line(b, 0)[0]
        if not first.startswith(b"#!"):
            return False
        first = lstrip_ws(first[2:])
        return any(match(first, path, flags) != -1 for path, flags in interpreters)
    return test


def runs(name: str, dirs: tuple[str, ...], env: bool = True, word: bool = False) -> tuple:
    """Shebang interpreter patterns: `{dir}{name}` for each dir, plus `/usr/bin/env [-S] name`.

    Without `word` a pattern is a prefix, so "python" also covers "python3".
    """
    w = WORD if word else 0
    paths = [((d + name).encode(), w) for d in dirs]
    if env:
        paths += [(f"/usr/bin/env{s} {name}".encode(), CWS | w) for s in ("", " -S")]
    return tuple(paths)


USR = ("/usr/bin/", "/usr/local/bin/")
SHELLS = runs("sh", ("/bin/",), env=False, word=True) + tuple(
    p for s in ("bash", "csh", "dash", "ksh", "tcsh", "zsh")
    for p in runs(s, ("/bin/", "/usr/local/bin/"), word=True))


# ---------------------------------------------------------------- subtitles, mail, genealogy

def srt(b: bytes) -> bool:
    """SubRip: cue "1", a valid and ordered time range, then some text."""
    first, i = line(b, 0)
    times, i = line(b, i)
    if first != b"1" or len(times) != 29 or b"." in times or b" --> " not in times:
        return False
    start, end = times.split(b" --> ", 1)
    stamps = [re.fullmatch(rb"(\d{1,2}):(\d\d):(\d\d),(\d\d\d)", t) for t in (start, end)]
    begin, finish = stamps
    if begin is None or finish is None or not all(int(m[1]) < 24 and int(m[2]) < 60 and int(m[3]) < 60 for m in (begin, finish)):
        return False
    if tuple(map(int, begin.groups())) > tuple(map(int, finish.groups())):
        return False
    return bool(line(b, i)[0])


def vtt(b: bytes) -> bool:
    b = b.removeprefix(UTF8_BOM)
    return b == b"WEBVTT" or (b.startswith(b"WEBVTT") and b[6:7] in (b"\n", b"\r", b" ", b"\t"))


_RFC822_HINTS = (
    (b"Message-ID: ", ICASE), (b"From: ", 0), (b"To: ", 0), (b"CC: ", ICASE), (b"Date: ", 0),
    (b"Subject: ", 0), (b"Received: ", 0), (b"Relay-Version: ", 0), (b"#! rnews", 0),
    (b"N#! rnews", 0), (b"Forward to", 0), (b"Pipe to", 0), (b"DELIVERED-TO: ", ICASE),
    (b"RETURN-PATH: ", ICASE), (b"Content-Type: ", 0), (b"Content-Transfer-Encoding: ", 0))


def rfc822(b: bytes) -> bool:
    """A header hint on the first line and on one of the next 20."""
    i = 0
    for n in range(21):
        text, i = line(b, i)
        hinted = any(match(text, h, f) != -1 for h, f in _RFC822_HINTS)
        if n == 0 and not hinted:
            return False
        if n > 0 and hinted:
            return True
    return False


def gedcom(b: bytes) -> bool:
    """A "0 HEAD" line (after a BOM and blanks), then "1 GEDC" within the next 10 lines."""
    for mark in (UTF8_BOM, b"\xfe\xff", b"\xff\xfe"):
        if b.startswith(mark):
            b = b[len(mark):]
            break
    b = lstrip_ws(b)
    text, i = line(b, 0)
    if text != b"0 HEAD":
        return False
    for _ in range(10):
        text, i = line(b, i)
        if text == b"1 GEDC":
            return True
    return False


# ---------------------------------------------------------------- Netpbm

def netpbm(*magics: bytes) -> Test:
    """P1..P6: magic line, then (after comments) a line starting with positive width and height."""
    def test(b: bytes) -> bool:
        if not b.startswith(magics):
            return False
        i, text = 3, b""
        for _ in range(128):
            text, i = line(b, i)
            if text.startswith(b"#"):
                continue
            text = lstrip_ws(text)
            if i >= len(b) or text:
                break
        dims = re.match(rb"([^ \r\n\x0c\t]*)[ \r\n\x0c\t]*([^ \r\n\x0c\t]*)", text)
        return dims is not None and all(re.fullmatch(rb"[+-]?\d+", d) and 0 < int(d) < 2**63 for d in dims.groups())
    return test


_PAM_KEYS = (b"WIDTH ", b"HEIGHT ", b"DEPTH ", b"MAXVAL ", b"ENDHDR")


def netpam(b: bytes) -> bool:
    """P7: WIDTH, HEIGHT, DEPTH and MAXVAL before ENDHDR."""
    if not b.startswith(b"P7\n"):
        return False
    seen: set[bytes] = set()
    i = 0
    for _ in range(128):
        text, i = line(b, i)
        if not text or text.startswith(b"#"):
            if i >= len(b):
                return False
            continue
        key = next((k for k in _PAM_KEYS if text.startswith(k)), None)
        if key == b"ENDHDR":
            return len(seen) == 4
        if key:
            seen.add(key)
    return False
