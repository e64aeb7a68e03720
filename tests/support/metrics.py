"""Reading one value from an API's Prometheus ``/metrics``."""

from __future__ import annotations


def metric_value(client, name: str, **labels: str) -> float:
    """The sample ``name`` with these labels from ``GET /metrics`` (0 when absent)."""
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        matches_name = line.startswith((name + "{", name + " "))
        if matches_name and all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
