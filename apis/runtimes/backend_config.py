"""Each backend's own small config, filled from the service's settings by field name.

A backend config is a frozen dataclass whose fields are named as the settings they come from
(``weights``, ``onnx_path`` ...); what the settings do not hold (device, threads, derived defaults)
the factory gives explicitly. A field the settings lack fails at once, naming it.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

Config = TypeVar("Config")


def config_from(config_type: type[Config], settings: Any, **given: Any) -> Config:
    """``config_type`` with ``given`` values, and every other field read from the same-named setting."""
    taken = {f.name: getattr(settings, f.name) for f in fields(config_type) if f.name not in given}
    return config_type(**taken, **given)
