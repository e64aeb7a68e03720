"""Waiting for ECS services against moto (which reports one running task per service)."""

import time

import pytest

from delivery.ecs_wait import ServicesNotStable, service_state, wait_for_services

FAST = {"timeout_s": 0.5, "poll_s": 0.05}


def test_stable_services_pass_at_once(aws, make_services):
    names = make_services({"detection": 1, "depth": 1, "ui": 1})

    started = time.monotonic()
    wait_for_services(aws.client("ecs"), "objdepth", names, **FAST)

    assert time.monotonic() - started < 0.5


def test_unstable_service_fails_with_its_state_after_the_deadline(aws, make_services, capsys):
    names = make_services({"detection": 1, "depth": 2, "ui": 1})

    started = time.monotonic()
    with pytest.raises(ServicesNotStable) as failure:
        wait_for_services(aws.client("ecs"), "objdepth", names, **FAST)

    assert 0.4 < time.monotonic() - started < 5
    message = str(failure.value)
    assert "not stable after" in message
    assert "depth: 1/2 tasks running" in message
    assert "detection:" not in message and "ui:" not in message
    assert "aws ecs describe-services --cluster objdepth --services depth" in message
    assert "waiting for depth" in capsys.readouterr().out


def test_missing_service_fails_immediately(aws, make_services):
    make_services({"ui": 1})

    with pytest.raises(ServicesNotStable, match="not found in cluster objdepth"):
        wait_for_services(aws.client("ecs"), "objdepth", ["ui", "nope"], timeout_s=30, poll_s=10)


def test_failed_rollout_fails_without_waiting():
    class Ecs:
        def describe_services(self, **_):
            deployment = {"status": "PRIMARY", "rolloutState": "FAILED", "failedTasks": 3}
            service = {
                "serviceName": "ui",
                "status": "ACTIVE",
                "runningCount": 0,
                "desiredCount": 1,
                "deployments": [deployment],
                "events": [{"message": "deployment failed: tasks failed to start"}],
            }
            return {"services": [service], "failures": []}

    with pytest.raises(ServicesNotStable) as failure:
        wait_for_services(Ecs(), "c", ["ui"], timeout_s=30, poll_s=10, sleep=pytest.fail)

    assert "rollout FAILED, 3 task(s) failed to start" in str(failure.value)
    assert "latest event: deployment failed" in str(failure.value)


def test_two_deployments_are_not_stable_yet():
    service = {
        "serviceName": "ui",
        "status": "ACTIVE",
        "runningCount": 1,
        "desiredCount": 1,
        "deployments": [{"status": "PRIMARY"}, {"status": "ACTIVE"}],
    }

    state = service_state(service)

    assert not state.stable and not state.failed
    assert "2 deployment(s)" in state.summary
