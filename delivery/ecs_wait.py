"""Wait, with a deadline, until ECS services have finished rolling out."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from delivery.steps import DeliveryError


class ServicesNotStable(DeliveryError):
    """The services did not become stable in time, or a rollout failed."""


@dataclass(frozen=True)
class ServiceState:
    """What one poll saw of one service."""

    name: str
    stable: bool
    failed: bool
    summary: str


def service_state(service: dict) -> ServiceState:
    """Judge one ``describe_services`` entry.

    Stable: active, a single deployment, its rollout (where ECS reports one) completed, and as many
    tasks running as desired. Failed: the rollout was stopped (deployment circuit breaker).
    """
    name = service["serviceName"]
    deployments = service.get("deployments", [])
    primary = next(
        (d for d in deployments if d.get("status") == "PRIMARY"), deployments[0] if deployments else {}
    )
    rollout = primary.get("rolloutState")
    running, desired = service.get("runningCount", 0), service.get("desiredCount", 0)
    summary = f"{running}/{desired} tasks running, {len(deployments)} deployment(s)"
    if rollout:
        summary += f", rollout {rollout}"
    if primary.get("failedTasks"):
        summary += f", {primary['failedTasks']} task(s) failed to start"
    events = service.get("events") or []
    if events:
        summary += f"; latest event: {events[0].get('message', '').strip()}"
    stable = (
        service.get("status") == "ACTIVE"
        and len(deployments) == 1
        and rollout in (None, "COMPLETED")
        and running == desired
    )
    return ServiceState(name=name, stable=stable, failed=rollout == "FAILED", summary=summary)


def wait_for_services(
    ecs,
    cluster: str,
    services: Sequence[str],
    *,
    timeout_s: float = 1200,
    poll_s: float = 15,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Poll ``services`` of ``cluster`` until all are stable; raise :class:`ServicesNotStable` otherwise.

    Fails at once when a rollout failed or a service does not exist, and after ``timeout_s``
    with the state of every service that was not stable.
    """
    deadline = clock() + timeout_s
    while True:
        response = ecs.describe_services(cluster=cluster, services=list(services))
        missing = [f"{f.get('arn', '?')}: {f.get('reason', '?')}" for f in response.get("failures", [])]
        if missing:
            raise ServicesNotStable(f"ECS services not found in cluster {cluster}: {'; '.join(missing)}")
        states = [service_state(s) for s in response["services"]]
        failed = [s for s in states if s.failed]
        if failed:
            raise ServicesNotStable(
                "ECS rollout failed:\n" + "\n".join(f"{s.name}: {s.summary}" for s in failed)
            )
        waiting = [s for s in states if not s.stable]
        if not waiting:
            return
        remaining = deadline - clock()
        if remaining <= 0:
            raise ServicesNotStable(
                f"ECS services not stable after {timeout_s:.0f} s:\n"
                + "\n".join(f"{s.name}: {s.summary}" for s in waiting)
                + f"\nInspect them: aws ecs describe-services --cluster {cluster} --services "
                + " ".join(s.name for s in waiting)
            )
        print(f"      waiting for {', '.join(s.name for s in waiting)} ({waiting[0].summary})", flush=True)
        sleep(min(poll_s, remaining))
