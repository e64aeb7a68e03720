"""The Markdown report of the CUDA suites: every target a ratio of two numbers measured in the same run."""

from __future__ import annotations

DEPTH_HTTP_P50_RATIO = 1.10  # depth p50 over HTTP ≤ 1.10 × in process, 1 client
DETECTION_GOODPUT_SHARE = 0.9  # detection goodput over HTTP at 8 clients ≥ 0.9 × in process at 8 threads


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator is not None and denominator else None


def _check(ok: bool | None) -> str:
    return "unmeasured" if ok is None else ("met" if ok else "**missed**")


def targets(suite: dict) -> list[tuple[str, float | None, bool | None]]:
    """(target, measured ratio, met?) of one suite: depth has the latency target, detection the goodput."""
    inside, http = suite["in_process"]["levels"], suite["http"]["levels"]
    rows: list[tuple[str, float | None, bool | None]] = []
    if suite["kind"] == "depth":
        ratio = _ratio(http["1"]["p50_ms"], inside["1"]["p50_ms"])
        met = None if ratio is None else ratio <= DEPTH_HTTP_P50_RATIO
        rows.append((f"p50 over HTTP / in process, 1 client ≤ {DEPTH_HTTP_P50_RATIO}", ratio, met))
    else:
        ratio = _ratio(http["8"]["goodput_rps"], inside["8"]["throughput_rps"])
        met = None if ratio is None else ratio >= DETECTION_GOODPUT_SHARE
        rows.append((f"goodput over HTTP / in process, 8 clients ≥ {DETECTION_GOODPUT_SHARE}", ratio, met))
    placement = suite["http"]["placement"]
    on_gpu = str(placement.get("device") or "").startswith("cuda")
    rows.append(
        (f"server runs on the GPU ({placement.get('device')}, {placement.get('provider')})", None, on_gpu)
    )
    errors = sum(level["other_errors"] for level in http.values())
    rows.append(("answers other than 200 and 503 over HTTP", errors, errors == 0))
    return rows


def _levels_table(suite: dict) -> list[str]:
    inside, http = suite["in_process"]["levels"], suite["http"]["levels"]
    lines = [
        "| clients | in process (/s) | in process p50 / p99 (ms) | HTTP goodput (/s) | HTTP p50 / p99 (ms) "
        "| HTTP ÷ in process (throughput) | shed % |",
        "|---|---|---|---|---|---|---|",
    ]
    for level in inside:
        a, b = inside[level], http[level]
        share = _ratio(b["goodput_rps"], a["throughput_rps"])
        lines.append(
            f"| {level} | {a['throughput_rps']} | {a['p50_ms']} / {a['p99_ms']} | {b['goodput_rps']} "
            f"| {b['p50_ms']} / {b['p99_ms']} | {share} | {b['shed_pct']} |"
        )
    return lines


def _parity_lines(parity: dict, kind: str) -> list[str]:
    lines = ["| comparison | photo | agreement | parity |", "|---|---|---|---|"]
    for comparison, photos in parity.items():
        for photo, result in photos.items():
            if kind == "detection":
                shown = (
                    f"boxes {result['boxes'][0]} vs {result['boxes'][1]}, matched {result['matched_share']}"
                )
            else:
                shown = f"mean Δ {result['mean_share']:.2%}, max Δ {result['max_share']:.2%} of the range"
            lines.append(f"| {comparison} | {photo} | {shown} | {_check(result['parity'])} |")
    return lines


def render_markdown(results: dict) -> str:
    """The whole report: machine, one section per suite, targets, memory and parity."""
    m = results["machine"]
    lines = [
        f"# CUDA benchmark: {m['gpu']}",
        "",
        f"{m['gpu']} ({m['gpus_visible']} visible, {m['gpu_memory_mib']} MiB, driver {m['driver']}), "
        f"{m['cpu_cores']} CPU cores; torch {m['torch']} (CUDA {m['torch_cuda']}), onnxruntime "
        f"{m['onnxruntime']}, Python {m['python']}; {m['date']}, {m.get('minutes')} minutes"
        f"{' (--quick)' if results.get('quick') else ''}. Random weights of the real-size models, bus.jpg. "
        "In process: the model loaded in the benchmark's process (DEVICE=cuda, HALF=auto), 1/4/8 threads "
        "that each decode bus.jpg and take turns on it. HTTP: the project's gunicorn server, shipped "
        "settings, DEVICE=cuda, closed-loop clients in a separate process (impolite: a 503 is retried at "
        "once). Written by `python -m bench --suite cuda` (bench/cuda.py).",
        "",
    ]
    for name, why in results.get("skipped", {}).items():
        lines += [f"**{name} skipped**: {why}", ""]
    for name, error in results.get("failed", {}).items():
        lines += [f"**{name} failed**: {error}", ""]
    for suite in results["suites"]:
        inside, http = suite["in_process"], suite["http"]
        placement = inside["placement"]
        lines += [
            f"## {suite['suite']}",
            "",
            f"{suite['window_s']} s per level. In process: {placement['device']}, {placement['provider']}, "
            f"{placement['precision']}. GPU memory: torch max allocated "
            f"{inside['torch_max_allocated_mib']} MiB (torch only), nvidia-smi "
            f"{inside['nvidia_smi_process_mib']} MiB for the benchmark's process and "
            f"{http['nvidia_smi_server_mib']} MiB for the server.",
            "",
            *_levels_table(suite),
            "",
            "| target | value | |",
            "|---|---|---|",
            *(f"| {target} | {value} | {_check(ok)} |" for target, value, ok in targets(suite)),
            "",
        ]
        if "parity" in suite:
            lines += [
                "Parity (bench/cuda_parity.py criteria): HALF=auto's fp16 against fp32 on CUDA, and CUDA "
                "against the CPU in fp32, on the test photos.",
                "",
                *_parity_lines(suite["parity"], suite["kind"]),
                "",
            ]
    return "\n".join(lines)
