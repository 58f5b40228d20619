"""Start, stop and measure one server: its process tree, RSS and CPU from /proc.

A server is the process we start plus all its descendants (granian's main process and
its workers); memory and CPU figures are sums over that tree, read at the moment.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field

import httpx

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
EMAIL, PASSWORD = "bench@example.com", "bench-password-123"


def set_priority(nice: int) -> None:
    """Nice this process, and its session's autogroup too: with autogroups on, plain nice values
    only weigh against processes of the same session, not against other sessions' work."""
    os.setpriority(os.PRIO_PROCESS, 0, nice)
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:
        pass


def priority(nice: int):
    """A preexec_fn that applies `nice` in the child (None when there is nothing to change)."""
    return (lambda: set_priority(nice)) if nice else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        raw = f.read()
    return raw[raw.rindex(")") + 2 :].split()  # the fields after "(comm)", from state on


def descendants(root: int) -> list[int]:
    """`root` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(_stat_fields(int(entry))[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out: list[int] = []
    todo = [root]
    while todo and len(out) < 1000:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            pass
    return total


def pss_bytes(pids: list[int]) -> int:
    """Proportional set size: shared pages split between the processes that map them."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError):
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (utime + stime)."""
    ticks = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return ticks / TICKS


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(v) for v in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return (sum(parts[:8]) - idle) / TICKS


@dataclass
class Server:
    name: str
    argv: list[str]  # the binary and its subcommand prefix: [exe]
    root: str  # a fresh folder for this server's data dir, cwd and log
    env: dict[str, str] = field(default_factory=dict)
    serve_args: list[str] = field(default_factory=list)  # extra `serve` flags
    nice: int = 0  # scheduling priority of the server's processes (children inherit it)
    port: int = 0
    proc: subprocess.Popen | None = None
    token: str = ""

    @property
    def data_dir(self) -> str:
        return os.path.join(self.root, "data")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self) -> None:
        """Fresh data dir and a superuser, before the first start."""
        os.makedirs(self.root, exist_ok=True)
        subprocess.run(
            [*self.argv, "superuser", "upsert", EMAIL, PASSWORD, "--dir", self.data_dir],
            cwd=self.root, env=self._env(), check=True, capture_output=True, timeout=60,
        )

    def _env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def start(self, timeout: float = 30.0) -> None:
        self.port = free_port()
        log = open(os.path.join(self.root, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [*self.argv, "serve", "--http", f"127.0.0.1:{self.port}", "--dir", self.data_dir, *self.serve_args],
            cwd=self.root, env=self._env(), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=priority(self.nice),
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.root}/server.log")
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"{self.name} did not answer /api/health within {timeout}s")
        self._wait_for_workers(deadline)
        self.token = self.login()

    def _wait_for_workers(self, deadline: float) -> None:
        """Let a multi-process server finish spawning (its tree stops growing)."""
        last, stable = 0, 0
        while time.monotonic() < deadline and stable < 5:
            n = len(self.pids())
            stable = stable + 1 if n == last else 0
            last = n
            time.sleep(0.1)

    def login(self) -> str:
        r = httpx.post(
            self.url + "/api/collections/_superusers/auth-with-password",
            json={"identity": EMAIL, "password": PASSWORD}, timeout=30,
        )
        r.raise_for_status()
        return r.json()["token"]

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the group is ours alone
        try:
            os.killpg(pgid, signal.SIGTERM)
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def pids(self) -> list[int]:
        assert self.proc is not None
        return descendants(self.proc.pid)

    def rss(self) -> int:
        return rss_bytes(self.pids())

    def cpu(self) -> float:
        return cpu_seconds(self.pids())


class RssSampler:
    """Samples a server's total RSS in a thread, every `interval`, for at most `limit` seconds."""

    def __init__(self, server: Server, interval: float = 0.005, limit: float = 300.0) -> None:
        self.server, self.interval, self.limit = server, interval, limit
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        pids = self.server.pids()
        refreshed = time.monotonic()
        end = refreshed + self.limit
        while not self._stop.is_set() and time.monotonic() < end:
            if time.monotonic() - refreshed > 0.5:  # workers may come and go
                pids, refreshed = self.server.pids(), time.monotonic()
            self.samples.append(rss_bytes(pids))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)


def steady_rss(server: Server, seconds: float = 1.0) -> int:
    """The median total RSS over a short quiet period."""
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(server.rss())
        time.sleep(0.05)
    samples.sort()
    return samples[len(samples) // 2]
