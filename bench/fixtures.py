"""The files both servers get, generated deterministically (same bytes on every run).

Nothing here is committed: `ensure()` writes them under `bench/out/fixtures/` once and
reuses them while their generator version matches.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter

VERSION = 1  # bump when a generator below changes
KIB, MIB = 1024, 1024 * 1024


@dataclass(frozen=True)
class Fixture:
    name: str  # the upload's file name
    path: str
    size: int
    sha256: str
    mime: str
    dims: tuple[int, int] | None = None  # images only


def text_1k() -> bytes:
    """Exactly 1 KiB of plain ASCII text."""
    words = "satchel pocketbase files thumbs records collections upload download".split()
    rng = random.Random(1)
    out = ""
    while len(out) < 2 * KIB:
        out += " ".join(rng.choice(words) for _ in range(12)) + ".\n"
    return out.encode("ascii")[: KIB - 1] + b"\n"


def binary(size: int, seed: int) -> bytes:
    """Incompressible bytes, the same for one seed (a zero-free first byte, so no sniffer sees text)."""
    data = bytearray(random.Random(seed).randbytes(size))
    data[:4] = b"\x00\xffSB"  # a NUL early: every sniffer calls it binary
    return bytes(data)


def photo(width: int, height: int, seed: int, grain: float) -> Image.Image:
    """A photo-like RGB picture: soft gradients, blurred shapes and some sensor grain."""
    rng = random.Random(seed)
    small = (width // 4, height // 4)
    sky = Image.linear_gradient("L").resize(small)
    r = sky.point(lambda v: 60 + v * 0.6)
    g = sky.point(lambda v: 90 + v * 0.5)
    b = sky.point(lambda v: 200 - v * 0.5)
    base = Image.merge("RGB", (r, g, b))
    draw = ImageDraw.Draw(base)
    for _ in range(140):
        x, y = rng.randrange(small[0]), rng.randrange(small[1])
        rx, ry = rng.randrange(8, small[0] // 5), rng.randrange(8, small[1] // 5)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=colour)
        else:
            points = [
                (x + rx * math.cos(a), y + ry * math.sin(a))
                for a in sorted(rng.uniform(0, 2 * math.pi) for _ in range(5))
            ]
            draw.polygon(points, fill=colour)
    base = base.filter(ImageFilter.GaussianBlur(3)).resize((width, height), Image.Resampling.BICUBIC)
    # Edges a camera would see: a sharp pass of thin lines over the upscaled picture.
    draw = ImageDraw.Draw(base)
    for _ in range(60):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randrange(-width // 6, width // 6), y0 + rng.randrange(-height // 6, height // 6)
        draw.line((x0, y0, x1, y1), fill=(rng.randrange(256),) * 3, width=rng.randrange(1, 4))
    noise = Image.frombytes("RGB", (width // 2, height // 2), rng.randbytes(width // 2 * height // 2 * 3))
    noise = noise.resize((width, height), Image.Resampling.BILINEAR)
    return Image.blend(base, noise, grain)


def jpeg_photo() -> bytes:
    buf = io.BytesIO()
    photo(2000, 1500, seed=3, grain=0.12).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def png_photo() -> bytes:
    buf = io.BytesIO()
    photo(4000, 3000, seed=4, grain=0.04).save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def huge_png(alpha: str) -> bytes:
    """10000x10000 RGBA at the default 100 Mpx limit, a few hundred KB: what an attacker uploads.
    `alpha`: "flat" (one colour and alpha, the issue's 405 KB file) or "gradient" (alpha
    varies row by row, so no shortcut applies)."""
    size = (10_000, 10_000)
    im = Image.new("RGBA", size, (200, 100, 50, 128))
    if alpha == "gradient":
        im.putalpha(Image.linear_gradient("L").resize(size, Image.Resampling.NEAREST))
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=9)
    return buf.getvalue()


GENERATORS = {
    # key: (upload name, mime, maker)
    "text_1k": ("hello.txt", "text/plain", text_1k),
    "bin_100k": ("blob100k.bin", "application/octet-stream", lambda: binary(100 * KIB, seed=5)),
    "bin_10m": ("blob10m.bin", "application/octet-stream", lambda: binary(10 * MIB, seed=6)),
    "jpeg": ("photo.jpg", "image/jpeg", jpeg_photo),
    "png": ("big.png", "image/png", png_photo),
    "huge_flat": ("huge-flat.png", "image/png", lambda: huge_png("flat")),
    "huge_gradient": ("huge-gradient.png", "image/png", lambda: huge_png("gradient")),
}


def ensure(root: str) -> dict[str, Fixture]:
    """Write any missing fixture under `root` and describe them all."""
    folder = os.path.join(root, f"fixtures-v{VERSION}")
    os.makedirs(folder, exist_ok=True)
    index_path = os.path.join(folder, "index.json")
    index = {}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    out = {}
    for key, (name, mime, make) in GENERATORS.items():
        path = os.path.join(folder, name)
        meta = index.get(key)
        if meta is None or not os.path.exists(path) or os.path.getsize(path) != meta["size"]:
            data = make()
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.replace(path + ".tmp", path)
            dims = None
            if mime.startswith("image/"):
                with Image.open(io.BytesIO(data)) as im:
                    dims = im.size
            meta = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "dims": dims}
            index[key] = meta
        out[key] = Fixture(name, path, meta["size"], meta["sha256"], mime, tuple(meta["dims"]) if meta["dims"] else None)
    with open(index_path, "w") as f:
        json.dump(index, f, indent=1)
    return out


class Stream:
    """`size` deterministic bytes produced chunk by chunk, never held whole (the 200 MiB upload)."""

    def __init__(self, size: int, seed: int, chunk: int = MIB) -> None:
        self.size, self.chunk = size, chunk
        self._block = binary(chunk, seed)

    def __iter__(self):
        sent = 0
        counter = 0
        while sent < self.size:
            n = min(self.chunk, self.size - sent)
            # Vary each chunk a little so no layer can deduplicate them.
            head = counter.to_bytes(8, "big")
            yield (head + self._block[8:])[:n]
            sent += n
            counter += 1
