"""Would dynamic batching pay? Model time per photo, one at a time against one batch, alternated.

Both exports have a dynamic batch axis (``batch x 3 x height x width``), so requests waiting at the
gate could run as one call. ``python -m bench.batching --suite detection-onnx --batch 4`` runs the
suite's ONNX file in this process on bus.jpg's model input: ``batch`` single calls, then one call of
``batch`` copies, repeated and alternated, and prints the median time per photo of each and their
ratio. Batching is worth building only where the ratio is well below 1; it is not shipped
(docs/serving.md#dynamic-batching).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench.suites import SUITES

#: bus.jpg (810x1080) as each model sees it: YOLO's letterbox at 640, Depth Anything's plan at 518.
MODEL_INPUT = {"detection": (640, 480), "depth": (686, 518)}


def per_photo_ms(session, batch: int, rounds: int, height: int, width: int) -> tuple[float, float]:
    """Median ms per photo: (one photo per call, ``batch`` photos per call), alternated ``rounds`` times."""
    name = session.get_inputs()[0].name
    single = np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)
    stacked = np.repeat(single, batch, axis=0)
    for inputs in (single, stacked):  # warm-up: the first call of a shape plans its memory
        session.run(None, {name: inputs})
    one_at_a_time, batched = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(batch):
            session.run(None, {name: single})
        one_at_a_time.append((time.perf_counter() - started) / batch * 1000)
        started = time.perf_counter()
        session.run(None, {name: stacked})
        batched.append((time.perf_counter() - started) / batch * 1000)
    return statistics.median(one_at_a_time), statistics.median(batched)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suite", default="detection-onnx", choices=["detection-onnx", "depth-onnx"])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    from apis.runtimes.onnx_session import open_session

    suite = SUITES[args.suite]()
    service = suite.route.name
    session, _ = open_session(suite.env[f"{service.upper()}_ONNX_PATH"], device="cpu")
    single, batched = per_photo_ms(session, args.batch, args.rounds, *MODEL_INPUT[service])
    print(
        f"{args.suite}, batch of {args.batch}: {single:.1f} ms per photo one at a time, {batched:.1f} ms "
        f"batched; batched / one at a time = {batched / single:.2f} (median of {args.rounds} rounds)"
    )


if __name__ == "__main__":
    main()
