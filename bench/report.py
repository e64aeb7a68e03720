"""The Markdown report of a benchmark run: every target a ratio of numbers measured in the same run."""

from __future__ import annotations

import statistics

from apis.depth.service import DepthService
from apis.detection.service import DetectionService

SERVERS = ("objdepth", "flask-1x1", "litserve")
WAIT_BUDGET_S = {"detection": DetectionService.max_queue_wait_s, "depth": DepthService.max_queue_wait_s}


def _median(runs: list[dict], level: str, key: str) -> float | None:
    values = [run[level][key] for run in runs if level in run and run[level].get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def verdict(ok: bool | None) -> str:
    """How a target reads in a table: met, **missed**, or unmeasured."""
    return "unmeasured" if ok is None else ("met" if ok else "**missed**")


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 2) if numerator is not None and denominator else None


def _load_table(runs: dict[str, list[dict]]) -> list[str]:
    lines = [
        "| server | clients | goodput (/s) | p50 admitted (ms) | p99 admitted (ms) | p99 waited (ms) "
        "| shed % | other errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for server in SERVERS:
        levels = [
            key for key in (runs[server][0] if runs[server] else {}) if isinstance(runs[server][0][key], dict)
        ]
        for level in levels:
            errors = sum(run[level]["other_errors"] for run in runs[server] if level in run)
            lines.append(
                f"| {server} | {level} | {_median(runs[server], level, 'goodput_rps')} | "
                f"{_median(runs[server], level, 'p50_ms')} | {_median(runs[server], level, 'p99_ms')} | "
                f"{_median(runs[server], level, 'p99_waited_ms')} | "
                f"{_median(runs[server], level, 'shed_pct')} | {errors} |"
            )
    return lines


def targets(suite: dict) -> list[tuple[str, float | None, bool | None]]:
    """(target, measured value, met?) for one suite."""
    runs = suite["runs"]
    ours = runs["objdepth"]
    kind = "depth" if suite["suite"].startswith("depth") else "detection"
    best_peer = max((_median(runs[s], "4", "goodput_rps") or 0.0 for s in SERVERS[1:]), default=0.0)
    at4 = _median(ours, "4", "goodput_rps")
    rows: list[tuple[str, float | None, bool | None]] = []
    ratio = _ratio(at4, best_peer)
    rows.append(
        ("goodput at 4 clients / best reference's ≥ 1.0", ratio, None if ratio is None else ratio >= 1.0)
    )
    for level in ("8", "32", "8-polite", "32-polite"):
        ratio = _ratio(_median(ours, level, "goodput_rps"), at4)
        rows.append((f"goodput at {level} / at 4 ≥ 0.9", ratio, None if ratio is None else ratio >= 0.9))
    errors = sum(level["other_errors"] for run in ours for level in run.values() if isinstance(level, dict))
    rows.append(("answers other than 200 and 503", errors, errors == 0))
    ratio = _ratio(_median(ours, "1", "p50_ms"), _median(runs["flask-1x1"], "1", "p50_ms"))
    rows.append(
        ("p50 at 1 client / minimal reference's ≤ 1.05", ratio, None if ratio is None else ratio <= 1.05)
    )
    p50 = _median(ours, "1", "p50_ms")
    worst = max(
        (_median(ours, lv, "p99_ms") or 0.0 for lv in ours[0] if isinstance(ours[0][lv], dict)), default=None
    )
    limit = WAIT_BUDGET_S[kind] * 1000 + 2 * (p50 or 0)
    rows.append(
        (
            f"worst p99 of admitted (ms) ≤ MAX_QUEUE_WAIT_S + 2 × p50 = {limit:.0f}",
            worst,
            None if p50 is None else worst <= limit,
        )
    )
    once = suite.get("objdepth_once")
    if once:
        shapes = once["shapes_p50_ms"]
        for name, value in shapes.items():
            if name != "bus.jpg":
                ratio = _ratio(value, shapes["bus.jpg"])
                rows.append((f"{name} / bus.jpg latency ≤ 2", ratio, None if ratio is None else ratio <= 2))
        ratio = _ratio(once["rss_after_soak_mb"], once["rss_after_warmup_mb"])
        rows.append(
            (
                "RSS after the mixed soak / after warm-up ≤ 1.15",
                ratio,
                None if ratio is None else ratio <= 1.15,
            )
        )
    return rows


def summary_table(results: dict) -> list[str]:
    """One row per suite: the headline numbers (the README copies this table)."""
    lines = [
        "| suite | goodput at 4: objdepth / flask-1x1 / litserve (/s) | objdepth at 8 / 32 clients (/s) "
        "| p50 at 1 client: objdepth / flask-1x1 (ms) | worst p99 admitted (ms) | worst shape ÷ bus.jpg "
        "| RSS soak ÷ warm-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for suite in results["suites"]:
        runs = suite["runs"]
        checks = {name: value for name, value, _ in targets(suite)}
        shapes = [value for name, value in checks.items() if name.endswith("/ bus.jpg latency ≤ 2")]
        worst = next((value for name, value in checks.items() if name.startswith("worst p99")), None)
        ours = runs["objdepth"]
        lines.append(
            f"| {suite['suite']} | "
            + " / ".join(str(_median(runs[s], "4", "goodput_rps")) for s in SERVERS)
            + f" | {_median(ours, '8', 'goodput_rps')} / {_median(ours, '32', 'goodput_rps')}"
            + f" | {_median(ours, '1', 'p50_ms')} / {_median(runs['flask-1x1'], '1', 'p50_ms')}"
            + f" | {worst} | {max((v for v in shapes if v is not None), default=None)}"
            + f" | {checks.get('RSS after the mixed soak / after warm-up ≤ 1.15')} |"
        )
    return lines


def render_markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark report",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GiB, Python {m['python']}, {m['date']}; "
        f"load average {m['load_average_before']} before, {m['load_average_after']} after; "
        f"{m['minutes']} minutes{' (--quick)' if results.get('quick') else ''}. Load from separate processes "
        "on 127.0.0.1 (closed loop, bus.jpg); random weights of the real-size models; goodput = answers "
        "200 per second of wall time; latencies of admitted (200) requests, medians over the repeats. The "
        "servers run one at a time, order alternated per repeat: **objdepth** (this project, shipped "
        "settings), **flask-1x1** (minimal Flask app, gunicorn 1 sync worker × 1 thread, model called in "
        "the request), **litserve** (LitServe 0.2.19 defaults); all three run the project's own model "
        "classes on the same file.",
        "",
        *summary_table(results),
        "",
    ]
    for name, error in results.get("failed", {}).items():
        lines += [f"**{name} failed**: {error}", ""]
    for suite in results["suites"]:
        lines += [f"## {suite['suite']}", ""]
        lines.append(
            f"{suite['window_s']} s per measurement, {suite['repeats']} repeat(s); start-up to healthy (s): "
            + ", ".join(
                f"{s} {statistics.median(r['startup_s'] for r in suite['runs'][s]):.1f}"
                for s in SERVERS
                if suite["runs"][s]
            )
            + "."
        )
        lines += ["", *_load_table(suite["runs"]), ""]
        once = suite.get("objdepth_once")
        if once:
            shapes = ", ".join(f"{name} {value} ms" for name, value in once["shapes_p50_ms"].items())
            soak = once["soak"]
            lines += [
                f"objdepth, p50 of 3 requests each: {shapes}.",
                "",
                f"Soak of mixed sizes (test photos, the three shapes above, a 40-megapixel photo; 2 polite "
                f"clients): {soak['requests']} requests, statuses {soak['statuses']}; worker RSS "
                f"{once['rss_after_warmup_mb']} MB after warm-up (each size once), "
                f"{once['rss_after_soak_mb']} MB after the soak.",
                "",
            ]
        lines += ["| target | value | |", "|---|---|---|"]
        lines += [f"| {name} | {value} | {verdict(ok)} |" for name, value, ok in targets(suite)]
        lines.append("")
    return "\n".join(lines)
