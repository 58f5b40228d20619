"""Profile Satchel under one of the benchmark's loads with py-spy: `python -m bench.profile get_1k`.

Starts Satchel alone on a fresh data dir (default workers), uploads the fixture, runs wrk
for `--seconds` while py-spy samples every process of the server, then prints where the
samples fall: by function (self and inclusive) and by top-level phase. Raw collapsed stacks
stay in bench/out/profile-<load>.txt (flamegraph.pl / speedscope read them).
Needs py-spy (`.venv/bin/pip install py-spy`), which must be allowed to ptrace (root).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from . import fixtures
from .files import client, create_collection, get_thumb, upload
from .load import run_wrk
from .procs import Server
from .run import BIN, OUT

LOADS = {  # name: (fixture, thumb, connections)
    "get_1k": ("text_1k", "", 64),
    "get_100k": ("bin_100k", "", 64),
    "get_10m": ("bin_10m", "", 8),
    "thumb_cached": ("jpeg", "100x100", 64),
}
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _short(frame: str) -> str:
    """`func (path/to/module.py:12)` -> `func (pkg/module.py)`: one entry per function."""
    m = FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    for marker in ("site-packages/", "lib/python3", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m['func']} ({path})"


IDLE = ("Condition.wait", "EpollSelector.select", "Queue.get", "Event.wait", "sleep")


def _package(frame: str) -> str:
    """The package a `func (path)` frame belongs to: satchel/api, sqlalchemy, anyio, asyncio..."""
    path = frame.rsplit("(", 1)[-1].rstrip(")")
    parts = path.split("/")
    if parts[0] == "satchel" and len(parts) > 2:
        return "/".join(parts[:2])
    if parts[0].startswith("<frozen"):
        return "stdlib"
    return parts[0].removesuffix(".py") if len(parts) > 1 else "stdlib:" + parts[0].removesuffix(".py")


def summarise(raw_path: str, top: int = 25) -> str:
    """Self time by function and by package, and inclusive time of Satchel's own functions."""
    self_fn: collections.Counter[str] = collections.Counter()
    self_pkg: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    total = idle = 0
    with open(raw_path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = [fr for fr in stack.split(";") if not fr.startswith(("process ", "thread "))]
            frames = [_short(fr) for fr in frames]
            if not frames or frames[-1].startswith(IDLE):
                idle += n
                continue
            total += n
            self_fn[frames[-1]] += n
            self_pkg[_package(frames[-1])] += n
            threads["worker thread" if any("WorkerThread.run" in fr or "_worker (concurrent" in fr for fr in frames)
                    else "event loop"] += n
            for fr in set(frames):
                if fr.split("(", 1)[-1].startswith(("satchel/", "starlette/", "anyio/")) or "sqlalchemy" in fr:
                    incl[fr] += n
    if not total:
        return "no busy samples"
    pct = lambda n: f"{n / total:6.1%}"
    lines = [f"{total} busy samples ({idle} idle dropped)"]
    lines += ["  " + pct(n) + f"  {name}" for name, n in threads.most_common()]
    lines.append("\n-- self time by package --")
    lines += [f"{pct(n)}  {name}" for name, n in self_pkg.most_common(15)]
    lines.append("\n-- self time by function --")
    lines += [f"{pct(n)}  {fr}" for fr, n in self_fn.most_common(top)]
    lines.append("\n-- inclusive (satchel, starlette, anyio, sqlalchemy functions) --")
    lines += [f"{pct(n)}  {fr}" for fr, n in incl.most_common(top + 15)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    p.add_argument("load", choices=sorted(LOADS))
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument("--workers", type=int, default=0, help="Satchel workers (default: its own default)")
    p.add_argument("--native", action="store_true", help="include native (C/Rust) frames")
    p.add_argument("--idle", action="store_true", help="include idle threads")
    p.add_argument("--all-threads", action="store_true", help="sample every thread, not only the GIL holder")
    args = p.parse_args(argv)
    spy = shutil.which("py-spy") or os.path.join(BIN, "py-spy")
    if not os.path.exists(spy):
        raise SystemExit("py-spy is missing: .venv/bin/pip install py-spy")
    fixture, thumb, conns = LOADS[args.load]
    fx = fixtures.ensure(OUT)[fixture]
    root = tempfile.mkdtemp(prefix="profile-", dir=OUT)
    server = Server("Satchel", [os.path.join(BIN, "satchel")], root)
    if args.workers:
        server.serve_args = ["--workers", str(args.workers)]
    raw = os.path.join(OUT, f"profile-{args.load}.txt")
    try:
        server.prepare()
        server.start()
        create_collection(server)
        with client(server) as c:
            stored, _ = upload(server, c, fx)
            expect = None
            if thumb:
                body, _ = get_thumb(server, c, stored, fx, thumb)
                expect = os.path.join(root, "expected")
                with open(expect, "wb") as f:
                    f.write(body)
            elif fx.size <= 100 * 1024:
                expect = fx.path
        path = stored.path(thumb)
        length = os.path.getsize(expect) if expect else fx.size
        run_wrk(server, path, connections=conns, seconds=2, body_len=length, expect_file=expect)  # warm-up
        assert server.proc is not None  # started above
        cmd = [spy, "record", "--pid", str(server.proc.pid), "--subprocesses", "--rate", str(args.rate),
               "--duration", str(int(args.seconds)), "--format", "raw", "--output", raw]
        # Native frames need the process paused for each sample; Python-only sampling does not.
        cmd.append("--native" if args.native else "--nonblocking")
        if args.idle:
            cmd.append("--idle")
        if not args.all_threads:
            cmd.append("--gil")  # the thread running Python at that instant: where the CPU goes
        if os.path.exists(raw):
            os.remove(raw)
        spy_proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        result = run_wrk(server, path, connections=conns, seconds=args.seconds - 2, body_len=length,
                         expect_file=expect)
        _, spy_err = spy_proc.communicate(timeout=args.seconds + 30)
        if not os.path.exists(raw):
            raise SystemExit(f"py-spy wrote nothing: {spy_err[-2000:]}")
        print(f"{args.load}: {result.rps:,.0f} req/s under py-spy, server CPU {result.cpu_per_request_ms:.3f} ms/request,"
              f" checked: {result.ok} {result.problem}")
        print(summarise(raw))
        print(f"\nraw stacks: {os.path.relpath(raw)}")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
