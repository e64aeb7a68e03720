"""The Markdown report of a benchmark run, with the targets next to the numbers."""

from __future__ import annotations

# The onnx backend's targets, as the most onnx / torch may be on the same model, per row of the table:
# a fraction of torch's memory and start-up; latency no worse for detection, 1.2 x faster for depth.
BACKEND_TARGETS = {
    "detection": {"in-process p50 (ms)": 1.0, "peak RSS (MB)": 0.60, "start-up to healthy (s)": 0.50},
    "depth": {"in-process p50 (ms)": 1 / 1.2, "peak RSS (MB)": 0.60, "start-up to healthy (s)": 0.50},
}


def _check(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _backend_rows(suite: dict) -> dict[str, float]:
    """The numbers the side-by-side table compares, by row name."""
    return {
        "in-process p50 (ms)": suite["inprocess"]["p50_ms"],
        "HTTP p50 at c=1 (ms)": suite["http"]["1"]["p50_ms"],
        "throughput at c=4 (req/s)": suite["http"]["4"]["throughput_rps"],
        "peak RSS (MB)": suite["rss_mb"]["peak_per_worker"],
        "start-up to healthy (s)": suite["startup_to_healthy_s"],
    }


def render_backends(results: dict) -> list[str]:
    """One table per model run on both backends (suites ``detection`` and ``detection-onnx`` ...)."""
    by_name = {s["suite"]: s for s in results["suites"]}
    lines: list[str] = []
    for model, targets in BACKEND_TARGETS.items():
        if model not in by_name or f"{model}-onnx" not in by_name:
            continue
        torch_rows, onnx_rows = _backend_rows(by_name[model]), _backend_rows(by_name[f"{model}-onnx"])
        header = "| | torch | onnx | onnx / torch | target |"
        lines += [f"## {model}: torch vs onnx", "", header, "|---" * 5 + "|"]
        for row, torch_value in torch_rows.items():
            ratio = onnx_rows[row] / torch_value if torch_value else float("nan")
            bound = targets.get(row)
            verdict = "" if bound is None else f"≤ {bound:.2f}: {_check(ratio <= bound)}"
            lines.append(f"| {row} | {torch_value} | {onnx_rows[row]} | {ratio:.2f} | {verdict} |")
        lines.append("")
    return lines


def render_markdown(results: dict) -> str:
    """One section per suite: latency, throughput by concurrency, overload, memory, targets."""
    m = results["machine"]
    lines = [
        "# Benchmark report",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GiB, Python {m['python']}, {m['date']}. "
        "Load from a separate process on 127.0.0.1; random weights of the real-size models.",
        "",
    ]
    for s in results["suites"]:
        ip, http, ratios, rss = s["inprocess"], s["http"], s["ratios"], s["rss_mb"]
        lines += [
            f"## {s['suite']}",
            "",
            "In-process (decode bus.jpg + model call, the service's path without HTTP): "
            f"p50 {ip['p50_ms']} ms, p95 {ip['p95_ms']} ms, "
            f"{ip['throughput_rps']} req/s. "
            f"Start-up to healthy: {s['startup_to_healthy_s']} s.",
            "",
            "| concurrency | requests | throughput (req/s) | p50 ms | p95 ms | p99 ms | statuses |",
            "|---|---|---|---|---|---|---|",
        ]
        for c, r in http.items():
            lines.append(
                f"| {c} | {r['requests']} | {r['throughput_rps']} | {r['p50_ms']} | {r['p95_ms']} | "
                f"{r['p99_ms']} | {r['statuses']} |"
            )
        o = s["overload"]
        shed = o["statuses"].get("503", 0)
        other_5xx = sum(n for code, n in o["statuses"].items() if code.startswith("5") and code != "503")
        lines += [
            "",
            f"Overload (concurrency {o['concurrency']}, {o['requests']} requests): {shed} answered 503 "
            f"({shed / max(o['requests'], 1):.0%}), other 5xx: {other_5xx}, statuses {o['statuses']}.",
            "",
            f"Memory: peak {rss['peak_per_worker']} MB per worker; {rss['after_warmup']} MB after warm-up, "
            f"{rss['after_soak']} MB after {rss['soak_requests']} more requests of mixed sizes "
            f"({rss['growth_pct']}% growth).",
            "",
            "| target | value | |",
            "|---|---|---|",
            f"| HTTP p50 (c=1) ≤ 1.10 × in-process p50 | {ratios['http_p50_over_inprocess_p50']} | "
            f"{_check(ratios['http_p50_over_inprocess_p50'] <= 1.10)} |",
            f"| throughput at c=4 ≥ 0.95 × in-process | {ratios['c4_throughput_over_inprocess']} | "
            f"{_check(ratios['c4_throughput_over_inprocess'] >= 0.95)} |",
            f"| RSS growth ≤ 5% | {rss['growth_pct']}% | {_check((rss['growth_pct'] or 0) <= 5)} |",
            f"| no 5xx but deliberate 503 | {other_5xx} | {_check(other_5xx == 0)} |",
            "",
        ]
    return "\n".join(lines + render_backends(results))
