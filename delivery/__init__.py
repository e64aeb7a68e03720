"""Delivery: build the three container images, deploy the stack to AWS, tear it down.

``python -m delivery images|deploy|destroy`` (behind ``make images``, ``make deploy`` and
``make destroy``). Each module does one job: :mod:`~delivery.prerequisites` (what a deploy needs),
:mod:`~delivery.engine` (docker or podman), :mod:`~delivery.images` (the three images),
:mod:`~delivery.ecr` (repositories and registry login), :mod:`~delivery.stack` (cdktf or terraform),
:mod:`~delivery.ecs_wait` (services stable), :mod:`~delivery.smoke` (health routes through the load
balancer), :mod:`~delivery.steps` (progress and failure reports), :mod:`~delivery.pipeline` (deploy
and destroy as steps) and :mod:`~delivery.cli`.
"""
