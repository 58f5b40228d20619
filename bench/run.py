"""`make bench`: PocketBase and Satchel side by side, same machine, same fixtures, same run.

Order of a run (each step bounded in count and time; traffic only to 127.0.0.1):
  1. fresh data dirs, superusers, start both, create the collection; idle RSS
  2. upload the fixtures and check every one downloads byte for byte
  3. wrk: warm-up, then A B A B rounds for 1 KiB, 100 KiB, 10 MiB and the cached thumb
  4. cold thumbs (JPEG x20, PNG x5, requests alternating) and 10 MiB uploads
  5. restart both: 20 cold thumbs at once (wall time, peak RSS)
  6. restart both: one 200 MiB upload (peak RSS growth)
  7. restart both: one 100x100 thumb of a 10000x10000 RGBA PNG each (time, peak RSS growth,
     memory given back, /api/health latency meanwhile)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from . import fixtures, report
from .backends import DEPLOYMENTS, Backends
from .deployed import deployed_satchel
from .files import (
    CheckFailed,
    Stored,
    check_download,
    check_size,
    check_thumb,
    client,
    create_collection,
    get_thumb,
    save_expected,
    upload,
    upload_stream,
)
from .fixtures import MIB, Fixture
from .load import WrkRun, require_wrk, run_wrk, wrk_version
from .procs import RssSampler, Server, pss_bytes, set_priority, steady_rss

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
MB = 1_000_000
BIN = os.path.dirname(sys.executable)  # the venv's bin: satchel and pocketbase live there


class OutOfTime(Exception):
    pass


class Bench:
    def __init__(self, args: argparse.Namespace, root: str, fx: dict[str, Fixture], backends: Backends) -> None:
        self.args, self.root, self.fx, self.backends = args, root, fx, backends
        self.deadline = time.monotonic() + args.budget
        self.pb = Server("PocketBase", [os.path.join(BIN, "pocketbase")], os.path.join(root, "pocketbase"))
        satchel = os.path.join(BIN, "satchel") if args.dev_venv else deployed_satchel(OUT)
        self.sa = Server("Satchel", [satchel], os.path.join(root, "satchel"))
        self.servers = [self.pb, self.sa]  # A B: alternation always starts with the reference
        for s in self.servers:
            s.nice = args.nice
        self.sa.serve_args = args.satchel_args.split()
        self.sa.env = backends.satchel_env()
        self.stored: dict[str, dict[str, Stored]] = {s.name: {} for s in self.servers}
        self.thumb100: dict[str, str] = {}  # each server's checked 100x100 thumb, saved for wrk to compare
        self.results: dict = {"problems": []}

    # helpers -------------------------------------------------------------------

    def step(self, label: str) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise OutOfTime(f"time budget of {self.args.budget}s spent before: {label}")
        print(f"[{time.strftime('%H:%M:%S')}] {label}", file=sys.stderr, flush=True)

    def problem(self, figure: str, server: str, text: str) -> None:
        self.results["problems"].append({"figure": figure, "server": server, "problem": text})
        print(f"  ! {figure} / {server}: {text}", file=sys.stderr, flush=True)

    def per_server(self, fn):
        return {s.name: fn(s) for s in self.servers}

    # the run ---------------------------------------------------------------------

    def run(self) -> dict:
        self.step("start both servers on fresh data dirs")
        for s in self.servers:
            s.prepare()
            s.start()
            self.backends.configure(s)
            create_collection(s)
        time.sleep(2)
        self.results["idle_rss"] = self.per_server(steady_rss)
        self.results["idle_pss"] = self.per_server(lambda s: pss_bytes(s.pids()))
        self.results["processes"] = self.per_server(lambda s: len(s.pids()))

        self.step("upload fixtures and check them")
        self.upload_fixtures()

        steps = {
            "get_1k": lambda: self.throughput("get_1k", "text_1k", "", 64),
            "get_100k": lambda: self.throughput("get_100k", "bin_100k", "", 64),
            "get_10m": lambda: self.throughput("get_10m", "bin_10m", "", 8),
            "thumb_cached": lambda: self.throughput("thumb_cached", "jpeg", "100x100", 64),
            "thumb_cold_jpeg": lambda: self.cold_thumbs("jpeg", "300x300f", self.args.cold),
            "thumb_cold_png": lambda: self.cold_thumbs("png", "300x300f", self.args.cold_png),
            "upload_10m": lambda: self.uploads_10m(self.args.uploads),
            "thumb_burst": lambda: self.burst(self.args.burst),  # restarts both servers
            "upload_huge": lambda: self.huge_upload(self.args.huge_mib * MIB),  # restarts both servers
            "thumb_huge_flat": lambda: self.huge_thumb("huge_flat"),  # restarts both servers
            "thumb_huge_gradient": lambda: self.huge_thumb("huge_gradient"),  # restarts both servers
        }
        for key, fn in steps.items():
            if self.args.only and key not in self.args.only:
                continue
            self.step(f"{key}")
            self.results[key] = fn()
            if key == "thumb_cached":
                self.results["rss_after_load"] = self.per_server(steady_rss)
                for s in self.servers:  # the 10 MiB body once more, whole, after all that load
                    with client(s) as c:
                        check_download(s, c, self.stored[s.name]["bin_10m"], self.fx["bin_10m"])
        return self.results

    def upload_fixtures(self) -> None:
        for s in self.servers:
            with client(s) as c:
                for key in ("text_1k", "bin_100k", "bin_10m", "jpeg"):
                    stored, _ = upload(s, c, self.fx[key])
                    check_download(s, c, stored, self.fx[key])
                    self.stored[s.name][key] = stored
                jpeg = self.stored[s.name]["jpeg"]
                for spec in ("100x100", "300x300f", "0x200"):  # every thumb size, checked once
                    body, _ = get_thumb(s, c, jpeg, self.fx["jpeg"], spec)
                    if spec == "100x100":
                        self.thumb100[s.name] = save_expected(s.root, "thumb100.expected", body)

    def throughput(self, key: str, fixture: str, thumb: str, conns: int) -> dict:
        """Warm-up, then A B A B; each server's figure is over all its measured rounds."""
        a = self.args
        paths: dict[str, str] = {}
        expect: dict[str, str | None] = {}
        length: dict[str, int] = {}
        for s in self.servers:
            stored = self.stored[s.name][fixture]
            paths[s.name] = stored.path(thumb)
            if thumb:
                expect[s.name] = self.thumb100[s.name]
                length[s.name] = os.path.getsize(self.thumb100[s.name])
            else:
                fx = self.fx[fixture]
                # Up to 100 KiB the exact body is compared; 10 MiB is counted, not buffered.
                expect[s.name] = fx.path if fx.size <= 100 * 1024 else None
                length[s.name] = fx.size
        runs: dict[str, list[WrkRun]] = {s.name: [] for s in self.servers}
        warm: dict[str, WrkRun] = {}

        def one(s: Server, seconds: float) -> WrkRun:
            return run_wrk(s, paths[s.name], connections=conns, seconds=seconds,
                           body_len=length[s.name], expect_file=expect[s.name])

        for s in self.servers:
            warm[s.name] = one(s, a.warmup)
        for _ in range(a.rounds):
            for s in self.servers:
                self.step(f"  {key} {s.name}")
                runs[s.name].append(one(s, a.seconds))
        out = {}
        pb_runs, sa_runs = runs[self.pb.name], runs[self.sa.name]
        round_ratios = [b.rps / a.rps if a.rps else None for a, b in zip(pb_runs, sa_runs, strict=True)]
        for s in self.servers:
            rs = runs[s.name]
            bad = [r.problem for r in [warm[s.name], *rs] if not r.ok]
            for text in bad:
                self.problem(key, s.name, text)
            n, secs = sum(r.requests for r in rs), sum(r.seconds for r in rs)
            out[s.name] = {
                "ok": not bad,
                "rps": n / secs,
                "mbps": n * length[s.name] / secs / 1e6,
                "p50_ms": statistics.mean(r.p50_ms for r in rs),
                "p99_ms": statistics.mean(r.p99_ms for r in rs),
                "cpu_ms_per_request": sum(r.server_cpu_s for r in rs) / n * 1000,
                "background_cpu_s": sum(r.background_cpu_s for r in rs),
                "seconds": secs,
                "connections": conns,
                "rounds": [r.as_dict() for r in rs],
                "round_ratios": round_ratios,  # Satchel/PocketBase req/s, round by round
            }
        return out

    def cold_thumbs(self, fixture: str, spec: str, count: int) -> dict:
        """Median first-request latency over `count` fresh uploads, requests alternating A B."""
        fx = self.fx[fixture]
        clients = {s.name: client(s) for s in self.servers}
        try:
            records = {s.name: [upload(s, clients[s.name], fx)[0] for _ in range(count)] for s in self.servers}
            times: dict[str, list[float]] = {s.name: [] for s in self.servers}
            errors: dict[str, str] = {}
            for i in range(count):
                self.step(f"  cold {fixture} thumb {i + 1}/{count}") if i % 5 == 0 else None
                for s in self.servers:
                    try:
                        _, elapsed = get_thumb(s, clients[s.name], records[s.name][i], fx, spec)
                        times[s.name].append(elapsed)
                    except CheckFailed as exc:
                        errors.setdefault(s.name, str(exc))
        finally:
            for c in clients.values():
                c.close()
        out = {}
        for s in self.servers:
            if s.name in errors:
                self.problem(f"thumb_cold_{fixture}", s.name, errors[s.name])
            t = times[s.name]
            out[s.name] = {
                "ok": s.name not in errors and len(t) == count,
                "median_ms": statistics.median(t) * 1000 if t else None,
                "min_ms": min(t) * 1000 if t else None,
                "max_ms": max(t) * 1000 if t else None,
                "all_ms": [round(x * 1000, 2) for x in t],
            }
        return out

    def uploads_10m(self, count: int) -> dict:
        fx = self.fx["bin_10m"]
        clients = {s.name: client(s) for s in self.servers}
        times: dict[str, list[float]] = {s.name: [] for s in self.servers}
        try:
            for _ in range(count):
                for s in self.servers:
                    stored, elapsed = upload(s, clients[s.name], fx)
                    check_size(s, clients[s.name], stored, fx.size)
                    times[s.name].append(elapsed)
        finally:
            for c in clients.values():
                c.close()
        return {
            name: {"ok": True, "median_ms": statistics.median(t) * 1000, "all_ms": [round(x * 1000, 1) for x in t]}
            for name, t in times.items()
        }

    def _restart_warm(self, s: Server, warm_thumbs: list[Stored] | None) -> None:
        """Restart, then touch the paths the measurement uses so lazy start-up work is done."""
        s.restart()
        with client(s) as c:
            for _ in range(20):
                c.get(self.stored[s.name]["text_1k"].path())
            if warm_thumbs:
                with ThreadPoolExecutor(len(warm_thumbs)) as pool:
                    list(pool.map(lambda st: get_thumb(s, c, st, self.fx["jpeg"], "300x300f"), warm_thumbs))
        time.sleep(1)

    def burst(self, count: int) -> dict:
        """`count` cold thumbs requested at once: wall time and peak RSS of the whole server."""
        fx = self.fx["jpeg"]
        prepared = {}
        for s in self.servers:
            with client(s) as c:
                prepared[s.name] = [upload(s, c, fx)[0] for _ in range(count + 4)]
        out = {}
        for s in self.servers:
            records, warm = prepared[s.name][:count], prepared[s.name][count:]
            self._restart_warm(s, warm)
            baseline = steady_rss(s, 0.5)
            with client(s) as c, ThreadPoolExecutor(count) as pool:
                list(pool.map(lambda _: None, range(count)))  # threads up before the clock starts
                with RssSampler(s) as rss:
                    t0 = time.perf_counter()
                    responses = list(pool.map(lambda st: c.get(st.path("300x300f")), records))
                    wall = time.perf_counter() - t0
                    time.sleep(0.2)
            ok = True
            for r in responses:
                try:
                    check_thumb(s, r.content, r.status_code, fx, "300x300f")
                except CheckFailed as exc:
                    self.problem("thumb_burst", s.name, str(exc))
                    ok = False
                    break
            out[s.name] = {"ok": ok, "wall_ms": wall * 1000, "peak_rss": rss.peak, "baseline_rss": baseline,
                           "samples": len(rss.samples)}
        return out

    def huge_upload(self, size: int) -> dict:
        """Peak RSS growth while one `size`-byte upload streams in, on a freshly started server."""
        out = {}
        for s in self.servers:
            self._restart_warm(s, None)
            with client(s, timeout=600) as c:
                upload(s, c, self.fx["text_1k"])  # the upload path itself warmed up
                time.sleep(0.5)
                baseline = steady_rss(s, 0.5)
                with RssSampler(s) as rss:
                    stored, elapsed = upload_stream(s, c, size, seed=7)
                    time.sleep(0.3)
                check_size(s, c, stored, size)
            out[s.name] = {"ok": True, "growth": rss.peak - baseline, "peak_rss": rss.peak,
                           "baseline_rss": baseline, "seconds": elapsed, "samples": len(rss.samples)}
        return out

    def huge_thumb(self, fixture: str) -> dict:
        """One 100x100 thumb of a 100 Mpx RGBA PNG on a fresh server: its time, peak RSS growth,
        how soon RSS is back within 100 MB of where it started (30 s at most), and the slowest
        of the /api/health answers asked every 50 ms meanwhile."""
        fx = self.fx[fixture]
        out = {}
        for s in self.servers:
            self._restart_warm(s, None)
            with client(s, timeout=120) as c:
                stored, _ = upload(s, c, fx)
                baseline = steady_rss(s, 0.5)
                health: list[float] = []
                done = threading.Event()
                asker = threading.Thread(target=_ask_health, args=(s, done, health))
                with RssSampler(s) as rss:
                    asker.start()
                    try:
                        _, elapsed = get_thumb(s, c, stored, fx, "100x100")
                    except CheckFailed as exc:
                        self.problem(f"thumb_{fixture}", s.name, str(exc))
                        elapsed = None
                    finally:
                        done.set()
                        asker.join()
            back_s = None
            t0 = time.monotonic()
            while time.monotonic() - t0 < 30:
                if s.rss() - baseline <= 100 * MB:
                    back_s = time.monotonic() - t0
                    break
                time.sleep(0.25)
            out[s.name] = {
                "ok": elapsed is not None, "ms": elapsed * 1000 if elapsed else None,
                "growth": rss.peak - baseline, "baseline_rss": baseline, "back_within_100mb_s": back_s,
                "health_max_ms": max(health, default=0) * 1000, "health_count": len(health),
            }
        return out

    def stop(self) -> None:
        for s in self.servers:
            try:
                s.stop()
            except Exception as exc:  # noqa: BLE001 - keep stopping the others
                print(f"stopping {s.name}: {exc}", file=sys.stderr)


def _ask_health(server: Server, done: threading.Event, seconds: list[float]) -> None:
    """Ask /api/health every 50 ms until `done`, noting how long each answer took."""
    with client(server) as c:
        while not done.wait(0.05):
            t0 = time.perf_counter()
            c.get("/api/health")
            seconds.append(time.perf_counter() - t0)


def machine() -> dict:
    info: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(), "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((text.split(":", 1)[1].strip() for text in f if text.startswith("model name")), "?")
        with open("/proc/meminfo") as f:
            info["mem_total_mib"] = int(f.readline().split()[1]) // 1024
    except OSError:
        pass
    info["loadavg_start"] = os.getloadavg()
    try:
        info["pocketbase"] = subprocess.run([os.path.join(BIN, "pocketbase"), "--version"], capture_output=True,
                                            text=True, timeout=10).stdout.strip()
        from importlib.metadata import version
        info["satchel"] = version("satchel")
        info["granian"] = version("granian")
        info["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                     timeout=10, cwd=HERE).stdout.strip()
        info["git_dirty"] = bool(subprocess.run(["git", "status", "--porcelain", "--", "satchel"], capture_output=True,
                                                text=True, timeout=10, cwd=os.path.dirname(HERE)).stdout.strip())
    except (OSError, subprocess.SubprocessError, ImportError):
        pass
    info["wrk"] = wrk_version()
    if os.environ.get("PYTHONPATH"):  # e.g. pointing the server at another copy of satchel
        info["pythonpath"] = os.environ["PYTHONPATH"]
    return info


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=3, help="seconds per measured wrk round (default 3)")
    p.add_argument("--rounds", type=int, default=4, help="A B rounds per wrk figure (default 4)")
    p.add_argument("--warmup", type=float, default=2, help="seconds of wrk warm-up per server (default 2)")
    p.add_argument("--cold", type=int, default=20, help="fresh uploads for the cold JPEG thumb (default 20)")
    p.add_argument("--cold-png", type=int, default=5, help="fresh uploads for the cold PNG thumb (default 5)")
    p.add_argument("--burst", type=int, default=20, help="cold thumbs requested at once (default 20)")
    p.add_argument("--uploads", type=int, default=5, help="10 MiB uploads per server (default 5)")
    p.add_argument("--huge-mib", type=int, default=200, help="size of the big upload in MiB (default 200)")
    p.add_argument("--deployment", choices=DEPLOYMENTS, default="sqlite",
                   help="sqlite: both on SQLite and local disk; postgres: Satchel on PostgreSQL (PocketBase has only "
                        "SQLite); s3: files of both in S3, one moto server; postgres-s3: both (default sqlite)")
    p.add_argument("--postgres-url", default=os.environ.get("SATCHEL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                   help="a PostgreSQL server where the run may create and drop its own database")
    p.add_argument("--satchel-args", default="", help='extra `satchel serve` flags, e.g. "--workers 1"')
    p.add_argument("--dev-venv", action="store_true",
                   help="run Satchel from this (dev) venv instead of a runtime-only one, as `pip install .` makes")
    p.add_argument("--nice", type=int, default=0,
                   help="nice value for both servers, wrk and this script (e.g. -10 on a shared machine; "
                        "below 0 needs root)")
    p.add_argument("--budget", type=float, default=900, help="stop starting new steps after this many seconds")
    p.add_argument("--quick", action="store_true", help="short smoke run: 2 s rounds, fewer samples")
    p.add_argument("--keep", action="store_true", help="keep the servers' data dirs and logs")
    p.add_argument("--only", type=lambda v: set(v.split(",")), default=set(),
                   help="comma-separated subset: get_1k,get_100k,get_10m,thumb_cached,thumb_cold_jpeg,"
                        "thumb_cold_png,upload_10m,thumb_burst,upload_huge (idle RSS is always measured)")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds, args.warmup = 2, 1, 1
        args.cold, args.cold_png, args.burst, args.uploads, args.huge_mib = 5, 2, 8, 2, 50
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    require_wrk()
    if args.nice:
        set_priority(args.nice)
    os.makedirs(OUT, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    print("generating fixtures (cached under bench/out/)", file=sys.stderr, flush=True)
    fx = fixtures.ensure(OUT)
    root = tempfile.mkdtemp(prefix="run-", dir=OUT)
    info = machine()
    info["deployment"] = args.deployment
    failed = ""
    with Backends(args.deployment, args.postgres_url, root) as backends:
        bench = Bench(args, root, fx, backends)
        try:
            bench.run()
        except (OutOfTime, CheckFailed, RuntimeError, httpx.HTTPError, subprocess.SubprocessError) as exc:
            failed = f"{type(exc).__name__}: {exc}"
            print(f"run stopped early: {failed}", file=sys.stderr)
        finally:
            bench.stop()
        info["loadavg_end"] = os.getloadavg()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    doc = {
        "date": started.isoformat(timespec="seconds"),
        "seconds": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1),
        "machine": info,
        "options": {k: sorted(v) if isinstance(v, set) else v for k, v in vars(args).items()},
        "fixtures": {k: {"name": f.name, "size": f.size, "sha256": f.sha256, "dims": f.dims} for k, f in fx.items()},
        "stopped_early": failed,
        "figures": report.figures(bench.results, vars(args)),
        "raw": bench.results,
    }
    stamp = started.strftime("%Y%m%d-%H%M%S")
    path = os.path.join(OUT, f"bench-{stamp}.json")
    for target in (path, os.path.join(OUT, "latest.json")):
        with open(target, "w") as f:
            json.dump(doc, f, indent=1, default=str)
    print(report.table(doc))
    print(f"\nJSON: {os.path.relpath(path)}" + (f"   (data kept in {root})" if args.keep else ""))
    return 1 if failed else 0
