"""`python -m satchel.thumbs.worker SRC SIZE STORED_TYPE MAX_PIXELS`: one thumb, in a process
of its own.

The server sends big images here (service.py). Decoding and resizing them holds the
interpreter lock for a hundred milliseconds and more at a time, and leaves hundreds of MB in
the allocator afterwards; in the server's own process the first stalls every request and the
second stays. Here neither touches the server: the process exits and gives back every byte, and
a crash in a decoder costs only this process.

Out: the thumb's content type, a newline, its bytes, on stdout (exit 0); or the reason no thumb
can be made on stderr (exit `NO_THUMB`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
import warnings

from PIL import Image

from .generate import ThumbError, make_thumb
from .spec import parse_thumb

NO_THUMB = 3
NICE = 5  # below the server's requests: a waking request thread preempts the thumb's threads
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def keep_freed_memory() -> None:
    """Tell glibc to keep freed memory for reuse instead of handing it back to the kernel.

    A big image is worked on in thousands of small bands, each allocated and freed; by default
    glibc returns the freed pages at once (mmap, trimming), so every band faults them in anew,
    which costs more than the work on a virtual machine. This process exits after one thumb, so
    what it keeps is given back then. Elsewhere than glibc nothing changes.
    """
    libc = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(libc), "mallopt", None) if libc else None
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        mallopt(_M_TRIM_THRESHOLD, 1 << 30)


def main(argv: list[str]) -> int:
    src, size, stored_type, max_pixels = argv
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the pixel limit is ours: max_pixels
    keep_freed_memory()
    os.nice(NICE)  # with autogroups (Linux's default) this weighs only against the same session: the server
    gc.disable()  # the bands' many small objects set off full collections (7 % of a big thumb); none make cycles worth it here
    try:
        data, content_type = make_thumb(src, parse_thumb(size), stored_type, int(max_pixels))
    except ThumbError as exc:
        print(exc, file=sys.stderr)
        return NO_THUMB
    sys.stdout.buffer.write(content_type.encode() + b"\n" + data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
