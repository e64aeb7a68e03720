"""Moved to :mod:`delivery.routes`; this name stays only until every branch imports it from there."""

from delivery.routes import DEPTH, DETECTION, SERVICES, UI, ServiceRoute, by_name

__all__ = ["DEPTH", "DETECTION", "SERVICES", "UI", "ServiceRoute", "by_name"]
