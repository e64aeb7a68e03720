"""The report's summary, written into README.md and docs/serving.md so that they always quote the latest run.

Each document holds one block between two marker lines; ``python -m bench`` rewrites it from the results it
has just written, and ``tests/test_docs.py`` fails when a block differs from ``bench/results/report.json``.
"""

from __future__ import annotations

from pathlib import Path

from bench.report import summary_table, targets, verdict

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- make bench writes this block from bench/results/report.json: do not edit by hand -->"
END = "<!-- end of the block make bench writes -->"


def run_line(results: dict) -> str:
    """When and on what the run was measured, and what it covers."""
    m = results["machine"]
    suites = ", ".join(suite["suite"] for suite in results["suites"]) or "no suite"
    quick = " with `--quick`" if results.get("quick") else ""
    return (
        f"Run of {m['date']} ({m['minutes']} minutes{quick}), {m['cores']} cores, load average "
        f"{m['load_average_before']} before and {m['load_average_after']} after; suites: {suites}. "
        "Absolute numbers on a shared machine move by ±15 % or more between runs; the ratios compare "
        "servers measured alternately in the same run."
    )


def readme_block(results: dict) -> str:
    """README.md's block: the run and one row per suite."""
    return "\n".join([run_line(results), "", *summary_table(results)])


def serving_block(results: dict) -> str:
    """docs/serving.md's block: README's, then each suite's targets, met or missed."""
    lines = [readme_block(results)]
    for suite in results["suites"]:
        lines += ["", f"**{suite['suite']}**", "", "| target | value | |", "|---|---|---|"]
        lines += [f"| {name} | {value} | {verdict(ok)} |" for name, value, ok in targets(suite)]
    return "\n".join(lines)


BLOCKS = {"README.md": readme_block, "docs/serving.md": serving_block}


def _block_span(text: str) -> tuple[int, int]:
    """Where a document's block lies: between the end of START and the start of END (ValueError without)."""
    start = text.index(START) + len(START)
    return start, text.index(END, start)


def current_block(text: str) -> str:
    """The block between the markers of a document's text (ValueError without markers)."""
    start, end = _block_span(text)
    return text[start:end].strip("\n")


def write_blocks(results: dict, root: Path = ROOT) -> None:
    """Rewrite every document's block from ``results``."""
    for relative, render in BLOCKS.items():
        path = root / relative
        text = path.read_text()
        start, end = _block_span(text)
        path.write_text(text[:start] + "\n\n" + render(results) + "\n\n" + text[end:])
