"""The figures, their ratios Satchel/PocketBase and goals, as a table and as JSON."""

from __future__ import annotations

PB, SA = "PocketBase", "Satchel"
MB = 1e6

# key, label, where in the results, value, unit, goal (">=x" on a ratio where higher is better, "<=x" lower)
FIGURES = [
    ("1", "1 KiB GET req/s (64 conns)", "get_1k", lambda r: r["rps"], "req/s", ">=1.5"),
    ("1", "1 KiB GET p50 latency", "get_1k", lambda r: r["p50_ms"], "ms", ""),
    ("1", "1 KiB GET p99 latency", "get_1k", lambda r: r["p99_ms"], "ms", ""),
    ("2", "100 KiB GET req/s (64 conns)", "get_100k", lambda r: r["rps"], "req/s", ">=1.5"),
    ("3", "10 MiB GET MB/s (8 conns)", "get_10m", lambda r: r["mbps"], "MB/s", ">=1.0"),
    ("4", "cached 100x100 thumb req/s", "thumb_cached", lambda r: r["rps"], "req/s", ">=1.5"),
    ("5", "cold 300x300f JPEG thumb, median of {cold}", "thumb_cold_jpeg", lambda r: r["median_ms"], "ms", "<=0.3"),
    ("5", "{burst} cold thumbs at once, wall", "thumb_burst", lambda r: r["wall_ms"], "ms", "<=0.3"),
    ("5", "{burst} cold thumbs at once, peak RSS", "thumb_burst", lambda r: r["peak_rss"] / MB, "MB", "<=1.0"),
    ("6", "cold 300x300f thumb of 4000x3000 PNG, median of {cold_png}", "thumb_cold_png", lambda r: r["median_ms"], "ms", ""),
    ("7", "10 MiB upload, median of {uploads}", "upload_10m", lambda r: r["median_ms"], "ms", ""),
    ("7", "{huge_mib} MiB upload, peak RSS growth", "upload_huge", lambda r: r["growth"] / MB, "MB", "<=0.25"),
    ("10", "100x100 thumb of 10000x10000 RGBA PNG, one alpha", "thumb_huge_flat", lambda r: r["ms"], "ms", "<=1.5"),
    ("10", "  same, peak RSS growth", "thumb_huge_flat", lambda r: r["growth"] / MB, "MB", "<=1.0"),
    ("10", "  same, seconds until RSS within 100 MB of start", "thumb_huge_flat", lambda r: r["back_within_100mb_s"], "s", ""),
    ("10", "  same, slowest /api/health meanwhile", "thumb_huge_flat", lambda r: r["health_max_ms"], "ms", ""),
    ("10", "100x100 thumb of 10000x10000 RGBA PNG, alpha gradient", "thumb_huge_gradient", lambda r: r["ms"], "ms", "<=1.5"),
    ("10", "  same, peak RSS growth", "thumb_huge_gradient", lambda r: r["growth"] / MB, "MB", "<=1.0"),
    ("10", "  same, seconds until RSS within 100 MB of start", "thumb_huge_gradient", lambda r: r["back_within_100mb_s"], "s", ""),
    ("10", "  same, slowest /api/health meanwhile", "thumb_huge_gradient", lambda r: r["health_max_ms"], "ms", ""),
    ("8", "idle RSS, all processes", "idle_rss", lambda r: r / MB, "MB", "<=2.0"),
    ("8", "idle PSS (shared pages split), for reference", "idle_pss", lambda r: r / MB, "MB", ""),
    ("9", "server CPU per request, 1 KiB GET", "get_1k", lambda r: r["cpu_ms_per_request"], "ms", ""),
    ("9", "server CPU per request, 100 KiB GET", "get_100k", lambda r: r["cpu_ms_per_request"], "ms", ""),
    ("9", "server CPU per request, 10 MiB GET", "get_10m", lambda r: r["cpu_ms_per_request"], "ms", ""),
    ("9", "server CPU per request, cached thumb", "thumb_cached", lambda r: r["cpu_ms_per_request"], "ms", ""),
]


def _value(results: dict, where: str, server: str, get) -> tuple[float | None, bool]:
    if where not in results:
        return None, True  # not run (--only or stopped early)
    entry = results[where].get(server)
    if entry is None:
        return None, False
    ok = entry.get("ok", True) if isinstance(entry, dict) else True
    try:
        return get(entry), ok
    except (KeyError, TypeError):
        return None, False


def figures(results: dict, options: dict) -> list[dict]:
    out = []
    for number, label, where, get, unit, goal in FIGURES:
        label = label.format(**options)
        pb, pb_ok = _value(results, where, PB, get)
        sa, sa_ok = _value(results, where, SA, get)
        ratio = sa / pb if pb and sa is not None else None
        met = None
        if goal and ratio is not None:
            bound = float(goal[2:])
            met = (ratio >= bound if goal.startswith(">=") else ratio <= bound) and pb_ok and sa_ok
        elif goal and where in results:
            met = False
        spread = None
        if unit in ("req/s", "MB/s"):
            ratios = [r for r in results.get(where, {}).get(SA, {}).get("round_ratios", []) if r is not None]
            spread = [min(ratios), max(ratios)] if ratios else None
        out.append({
            "figure": number, "label": label, "unit": unit, "pocketbase": pb, "satchel": sa,
            "ratio": ratio, "round_ratios": spread, "goal": goal, "met": met, "checked": pb_ok and sa_ok,
        })
    return out


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def table(doc: dict) -> str:
    rows = [("#", "figure", "unit", "PocketBase", "Satchel", "ratio S/P", "rounds", "goal", "met")]
    for f in doc["figures"]:
        met = {True: "yes", False: "NO", None: ""}[f["met"]]
        if f["pocketbase"] is None and f["satchel"] is None and f["checked"]:
            met = "not run"
        elif not f["checked"]:
            met = "INVALID"  # a wrong or missing answer: the figure cannot count
        ratio = f"{f['ratio']:.2f}x" if f["ratio"] is not None else "-"
        spread = f"{f['round_ratios'][0]:.2f}-{f['round_ratios'][1]:.2f}" if f.get("round_ratios") else ""
        rows.append((f["figure"], f["label"], f["unit"], _num(f["pocketbase"]), _num(f["satchel"]), ratio, spread,
                     f["goal"].replace(">=", "≥ ").replace("<=", "≤ "), met))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = {3, 4, 5, 6}
    lines = []
    for i, row in enumerate(rows):
        cells = [c.rjust(w) if j in right else c.ljust(w) for j, (c, w) in enumerate(zip(row, widths, strict=False))]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    m = doc["machine"]
    goals = [f for f in doc["figures"] if f["goal"] and f["met"] is not None]
    met_count = sum(1 for f in goals if f["met"])
    head = (
        f"Satchel vs PocketBase  {doc['date']}  ({doc['seconds']:.0f} s)  deployment: {m.get('deployment', 'sqlite')}\n"
        f"machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('mem_total_mib', '?')} MiB, "
        f"{m.get('platform')}; load avg at start {m['loadavg_start'][0]:.2f}"
        f"{'; nice ' + str(doc['options']['nice']) if doc['options'].get('nice') else ''}\n"
        f"{m.get('pocketbase', '')}; satchel {m.get('satchel', '?')} @ {m.get('git', '?')}"
        f"{' (+local changes)' if m.get('git_dirty') else ''} on granian {m.get('granian', '?')}; {m.get('wrk', '')}\n"
        f"{'PYTHONPATH=' + m['pythonpath'] + chr(10) if m.get('pythonpath') else ''}"
        f"{'satchel serve ' + doc['options']['satchel_args'] + chr(10) if doc['options'].get('satchel_args') else ''}"
    )
    bg = _background(doc["raw"])
    tail = f"\ngoals met: {met_count} of {len(goals)}"
    if bg is not None:
        tail += f"; CPU used by other processes during the wrk rounds: {bg:.0%} of the machine"
    if doc["stopped_early"]:
        tail += f"\nSTOPPED EARLY: {doc['stopped_early']}"
    for p in doc["raw"].get("problems", []):
        tail += f"\n  wrong answer: {p['figure']} / {p['server']}: {p['problem']}"
    return head + "\n" + "\n".join(lines) + tail


def _background(raw: dict) -> float | None:
    """Share of the machine's CPU that other processes took while wrk ran (noise indicator)."""
    import os

    busy = secs = 0.0
    for key in ("get_1k", "get_100k", "get_10m", "thumb_cached"):
        for server in raw.get(key, {}).values():
            busy += server["background_cpu_s"]
            secs += server["seconds"]
    return busy / (secs * (os.cpu_count() or 1)) if secs else None
