"""Targeted A/B runs: two or more servers of one suite, alternated, at a few client counts.

``make bench`` takes a quarter of an hour for the onnx suites; a change to serving is judged faster
by putting it next to what it replaces in one short run, alternated so that a machine shared with
other work slows both alike::

    git archive HEAD~1 | tar -x -C /tmp/before      # the code before the change
    python -m bench.ab --suite detection-onnx --levels 1,4,8,32,32p \\
        --variant before=objdepth@/tmp/before --variant after=objdepth

A variant is ``LABEL=SERVER[@TREE][,NAME=VALUE...]``: a server of :mod:`bench.__main__`
(``objdepth``, ``flask-1x1``, ``litserve``), optionally run from another checkout, with extra
environment variables. A level ``32p`` is 32 polite clients. Prints one line per measurement, then
the median of each label and level over the repeats: compare ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench.harness import REPO_ROOT, run_loadgen
from bench.suites import MAIN_IMAGE, SUITES, Suite
from tests.support import servers


@dataclass(frozen=True)
class Variant:
    """One server to compare: its label, which server, from which checkout, with which settings."""

    label: str
    server: str
    tree: Path
    env: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> Variant:
        label, _, rest = text.partition("=")
        server_and_tree, *settings = rest.split(",")
        server, _, tree = server_and_tree.partition("@")
        env = dict(setting.split("=", 1) for setting in settings)
        return cls(label, server, Path(tree or REPO_ROOT).resolve(), env)


def measure(variant: Variant, suite: Suite, levels: list[str], seconds: float) -> dict[str, dict]:
    """Start ``variant``'s server alone, warm it up, and measure each level; then stop it."""
    from bench.__main__ import server_command

    port = servers.free_port()
    command, health, path = server_command(variant.server, suite, port)
    env = {**suite.env, "BENCH_SERVICE": suite.route.name, **variant.env}
    original_root = servers.REPO_ROOT
    servers.REPO_ROOT = variant.tree  # the server's working directory and import path
    try:
        workdir = REPO_ROOT / "bench" / "results" / f".ab-{variant.label}-server"
        with servers.run_server(command, port=port, health_path=health, workdir=workdir, env=env) as server:
            servers.REPO_ROOT = original_root
            url = server.url + path
            run_loadgen(url, [MAIN_IMAGE], concurrency=1, seconds=600, requests=3, form=suite.form)
            return {
                level: run_loadgen(
                    url,
                    [MAIN_IMAGE],
                    concurrency=int(level.rstrip("p")),
                    seconds=seconds,
                    polite=level.endswith("p"),
                    form=suite.form,
                )
                for level in levels
            }
    finally:
        servers.REPO_ROOT = original_root


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", required=True, choices=sorted(SUITES))
    parser.add_argument("--variant", action="append", required=True, type=Variant.parse)
    parser.add_argument("--levels", default="1,4,8,32", help="client counts; 32p = 32 polite clients")
    parser.add_argument("--seconds", type=float, default=4.0, help="per measurement")
    parser.add_argument("--repeats", type=int, default=2, help="the order of the variants alternates")
    args = parser.parse_args()
    suite = SUITES[args.suite]()
    levels = args.levels.split(",")
    runs: list[tuple[str, dict[str, dict]]] = []
    for repeat in range(args.repeats):
        order = args.variant if repeat % 2 == 0 else list(reversed(args.variant))
        for variant in order:
            measured = measure(variant, suite, levels, args.seconds)
            runs.append((variant.label, measured))
            for level, result in measured.items():
                print(
                    f"repeat {repeat + 1} {variant.label:>10} {level:>4} clients: goodput "
                    f"{result['goodput_rps']:.2f}/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
                    f"shed {result['shed_pct']} %, other errors {result['other_errors']}, "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    print("median over the repeats:")
    for variant in args.variant:
        for level in levels:
            results = [measured[level] for label, measured in runs if label == variant.label]
            goodput = statistics.median(r["goodput_rps"] for r in results)
            p50 = round(statistics.median(r["p50_ms"] or 0.0 for r in results), 1)
            p99 = round(statistics.median(r["p99_ms"] or 0.0 for r in results), 1)
            print(f"{variant.label:>10} {level:>4} clients: goodput {goodput:.2f}/s, p50 {p50}, p99 {p99} ms")


if __name__ == "__main__":
    main()
