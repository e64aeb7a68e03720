"""Run a list of named steps with progress output, and say what to do when one fails."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO


class DeliveryError(Exception):
    """A failure the user can act on; the message says what went wrong in plain words."""


@dataclass(frozen=True)
class Step:
    """One unit of work: a title for the progress line, the action, and advice if it fails."""

    title: str
    action: Callable[[], object]
    on_failure: str = ""


def run_steps(steps: Sequence[Step], out: TextIO, *, retry_hint: str) -> bool:
    """Run ``steps`` in order, printing ``[i/n] title`` and the time each took.

    Stops at the first failure, prints which step failed, why, the step's own advice (for
    example how to roll back) and ``retry_hint``; returns ``False`` then, ``True`` when all ran.
    """
    total = len(steps)
    for index, step in enumerate(steps, start=1):
        print(f"[{index}/{total}] {step.title} ...", file=out, flush=True)
        started = time.monotonic()
        try:
            step.action()
        except (DeliveryError, OSError) as exc:
            _report_failure(step, exc, out, retry_hint)
            return False
        except Exception as exc:  # boto3/botocore errors and anything unexpected: still say what failed
            _report_failure(step, exc, out, retry_hint, unexpected=True)
            return False
        print(f"      done in {time.monotonic() - started:.1f} s", file=out, flush=True)
    return True


def _report_failure(
    step: Step, exc: BaseException, out: TextIO, retry_hint: str, *, unexpected=False
) -> None:
    kind = f" ({type(exc).__name__})" if unexpected else ""
    print(f"\nFAILED: {step.title}{kind}", file=out)
    for line in str(exc).strip().splitlines() or ["(no message)"]:
        print(f"  {line}", file=out)
    if step.on_failure:
        print(f"  {step.on_failure}", file=out)
    print(f"  To retry: {retry_hint}", file=out, flush=True)
