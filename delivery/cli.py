"""Command line: ``python -m delivery images|deploy|destroy``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import boto3

from delivery import ecr, images, pipeline, secrets
from delivery.engine import describe_missing_engine, detect_engine
from delivery.stack import STACK_NAME
from delivery.steps import DeliveryError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m delivery", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("images", help="build the three images with docker or podman (make images)")
    build.add_argument("--tag", action="append", help="image tag, repeatable (default: the commit SHA)")
    build.add_argument("--registry", default="", help="registry host to name the images with (default: none)")
    build.add_argument(
        "--push", action="store_true", help="push every tag (ECR repositories are created first)"
    )
    build.add_argument("--manifest", type=Path, help="write the built image references to this JSON file")
    build.add_argument(
        "--gpu",
        action="store_true",
        help="the APIs' GPU variants (tags <tag>-gpu), as `gpu = true` in cdktf_app/settings.toml also picks",
    )

    push = commands.add_parser("push", help="push the images named in a manifest written by `images`")
    push.add_argument("--manifest", type=Path, required=True)
    push.add_argument(
        "--moving-tag", action="append", default=[], help="a tag that moves between images (e.g. prod)"
    )
    build.add_argument(
        "--build-arg", action="append", default=[], metavar="KEY=VALUE", help="passed to the build"
    )

    commands.add_parser("deploy", help="build, push and deploy to AWS, then smoke-test it (make deploy)")

    record = commands.add_parser("record-tag", help="record a pushed image tag in SSM for later synths")
    record.add_argument("--tag", required=True, help="the tag all three images were pushed under")

    destroy = commands.add_parser("destroy", help="delete the deployment and its images (make destroy)")
    destroy.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def _engine_or_error():
    engine = detect_engine()
    if engine is None:
        print(f"error: {describe_missing_engine()}", file=sys.stderr)
    return engine


def images_command(args: argparse.Namespace) -> int:
    """Build the three images (``make images``); the engine is whichever works."""
    engine = _engine_or_error()
    if engine is None:
        return 1
    build_args = dict(item.split("=", 1) for item in args.build_arg)
    tags = args.tag or [images.default_tag()]
    print(f"Building with {engine.executable}, tags {', '.join(tags)}", flush=True)
    specs = images.repository_settings().specs
    if args.gpu:
        specs = images.with_gpu(specs)
    try:
        built = images.build_images(
            engine, registry=args.registry, tags=tags, specs=specs, build_args=build_args
        )
    except DeliveryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.manifest:
        images.write_manifest(args.manifest, built)
        print(f"Wrote {args.manifest}", flush=True)
    return 0


def push_command(args: argparse.Namespace) -> int:
    """Push what ``images --manifest`` built; into ECR, make the repositories and move moving tags."""
    engine = _engine_or_error()
    if engine is None:
        return 1
    built = images.read_manifest(args.manifest)
    references = [ref for refs in built.values() for ref in refs]
    try:
        if any(".dkr.ecr." in ref for ref in references):
            repositories = images.repository_settings()
            client = aws_session().client("ecr")
            ecr.ensure_repositories(
                client, [s.repository for s in repositories.specs], tag_mutability=repositories.tag_mutability
            )
            for ref in references:
                repository, tag = ref.split("/", 1)[1].rsplit(":", 1)
                moving = images.plain_tag(tag) in args.moving_tag  # prod-gpu moves with prod
                if moving and ecr.release_tag(client, repository, tag):
                    print(f"      moved tag {tag} of {repository}", flush=True)
        images.push_images(engine, built)
    except DeliveryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def confirm_destroy(read: Callable[[str], str] = input, *, interactive: bool | None = None) -> bool:
    """Ask before deleting; without a terminal, refuse and say how to skip the question."""
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        print("error: destroy needs confirmation; run `make destroy YES=1` (or pass --yes)", file=sys.stderr)
        return False
    print(
        f"This deletes the {STACK_NAME!r} stack (load balancer, ECS services, network, logs) and the "
        "ECR repositories with every image in them."
    )
    try:
        answer = read(f"Type {STACK_NAME!r} to continue: ")
    except EOFError:
        answer = ""
    if answer.strip() != STACK_NAME:
        print("Cancelled; nothing was deleted.")
        return False
    return True


def record_tag_command(args: argparse.Namespace, session: boto3.Session | None = None) -> int:
    """Record ``--tag`` in the SSM parameter synth reads when no tag is given (CodeBuild, after a push)."""
    from cdktf_app.config import SettingsError
    from cdktf_app.settings_file import load_settings

    try:
        parameter = load_settings().image_tag_parameter
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    secrets.record_image_tag((session or aws_session()).client("ssm"), parameter, args.tag)
    return 0


def aws_session() -> boto3.Session:
    """A boto3 session; ``AWS_REGION`` (which the stack reads too) wins over the profile's region."""
    return boto3.Session(region_name=os.environ.get("AWS_REGION") or None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = _parser().parse_args(argv)
    if args.command == "images":
        return images_command(args)
    if args.command == "push":
        return push_command(args)
    if args.command == "deploy":
        return pipeline.deploy(pipeline.Deployment(aws_session(), timing=pipeline.Timing.from_env()))
    if args.command == "record-tag":
        return record_tag_command(args)
    if not args.yes and not confirm_destroy():
        return 1
    deployment = pipeline.Deployment(aws_session(), check=pipeline.destroy_checks)
    return pipeline.destroy(deployment)
