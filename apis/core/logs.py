"""One readable log line format for every process, with the request id when there is one."""

from __future__ import annotations

import logging

from flask import g, has_request_context

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(level: str = "INFO") -> None:
    """Install the format on the root logger once; later calls only change the level."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if any(getattr(h, "_objdepth", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(_RequestIdFilter())
    handler._objdepth = True  # type: ignore[attr-defined]
    root.addHandler(handler)
