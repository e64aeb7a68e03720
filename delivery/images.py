"""The three service images: which Dockerfile and ECR repository each has, how they are named and built.

The two APIs also come as a GPU variant (build argument ``DEVICE=cuda``: ONNX Runtime with CUDA), in
the same ECR repository under the same tag plus :data:`VARIANT_TAG_SUFFIX` (``<sha>-gpu``): no second
repository, execution role or lifecycle policy, and one recorded tag names both variants.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from delivery.engine import ContainerEngine
from delivery.routes import SERVICES

ROOT = Path(__file__).resolve().parent.parent
CPU_VARIANT, GPU_VARIANT = "cpu", "gpu"
#: Variant -> what it adds to every tag of the image.
VARIANT_TAG_SUFFIX = {CPU_VARIANT: "", GPU_VARIANT: "-gpu"}
#: Variant -> the Dockerfile's ``DEVICE`` build argument (the CPU images leave it at its default).
VARIANT_DEVICE = {GPU_VARIANT: "cuda"}
#: The services whose image has a GPU variant (the web page has none).
GPU_SERVICES = tuple(route.name for route in SERVICES if not route.is_default_route)


def variant_tag(tag: str, variant: str) -> str:
    """``tag`` as the ``variant`` image carries it (``abc`` -> ``abc-gpu``)."""
    return f"{tag}{VARIANT_TAG_SUFFIX[variant]}"


def plain_tag(tag: str) -> str:
    """The tag without a variant suffix (``prod-gpu`` -> ``prod``)."""
    for suffix in VARIANT_TAG_SUFFIX.values():
        if suffix and tag.endswith(suffix):
            return tag.removesuffix(suffix)
    return tag


@dataclass(frozen=True)
class ImageSpec:
    """One service image: the service name used in ``delivery/routes.py`` and the stack outputs.

    Both APIs build from one Dockerfile; the build argument ``SERVICE`` picks the service (the UI's
    Dockerfile takes the same argument, with ``ui`` as its default).
    """

    service: str
    dockerfile: str
    repository: str
    variant: str = CPU_VARIANT

    @property
    def build_args(self) -> dict[str, str]:
        """The build arguments that make ``dockerfile`` this service's image (and variant)."""
        device = VARIANT_DEVICE.get(self.variant)
        return {"SERVICE": self.service} | ({"DEVICE": device} if device else {})

    def tag(self, tag: str) -> str:
        """``tag`` as this image carries it (with its variant's suffix)."""
        return variant_tag(tag, self.variant)

    def reference(self, registry: str, tag: str) -> str:
        """``registry/repository:tag``, or ``repository:tag`` for a local build without registry."""
        name = f"{registry.rstrip('/')}/{self.repository}" if registry else self.repository
        return f"{name}:{self.tag(tag)}"


# Repository names are the original platform's; the CDKTF stack uses the same defaults.
IMAGES: tuple[ImageSpec, ...] = (
    ImageSpec("detection", "docker/api.Dockerfile", "yoloflask/api"),
    ImageSpec("depth", "docker/api.Dockerfile", "depthanythingflask/api"),
    ImageSpec("ui", "docker/ui.Dockerfile", "objectdetectionreact/webapp"),
)


def with_gpu(specs: Sequence[ImageSpec]) -> tuple[ImageSpec, ...]:
    """``specs`` as a GPU deployment runs them: the APIs' GPU variants, the web page as it is."""
    return tuple(replace(s, variant=GPU_VARIANT) if s.service in GPU_SERVICES else s for s in specs)


@dataclass(frozen=True)
class RepositorySettings:
    """What the stack declares about the image repositories, so that delivery makes them alike."""

    specs: tuple[ImageSpec, ...]
    tag_mutability: str


def repository_settings() -> RepositorySettings:
    """:data:`IMAGES` with the repository names and tag mutability of ``cdktf_app/settings.toml``.

    With ``gpu = true`` there, the APIs' specs are their GPU variants (:func:`with_gpu`).
    """
    from cdktf_app.settings_file import load_settings

    settings = load_settings()
    specs = tuple(replace(spec, repository=settings.services[spec.service].image_name) for spec in IMAGES)
    if settings.gpu:
        specs = with_gpu(specs)
    return RepositorySettings(specs=specs, tag_mutability=settings.ecr_image_tag_mutability)


def _git(*args: str, root: Path) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else ""


def default_tag(root: Path = ROOT, *, now: datetime | None = None) -> str:
    """The commit SHA (12 characters); with uncommitted changes ``<sha>-dirty-<UTC time>``.

    A dirty tree gets a unique tag so that a later deploy of different uncommitted code never
    reuses (and silently overwrites) the tag of an earlier one.
    """
    sha = _git("rev-parse", "--short=12", "HEAD", root=root) or "nogit"
    if _git("status", "--porcelain", "--untracked-files=no", root=root) or sha == "nogit":
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        return f"{sha}-dirty-{stamp}"
    return sha


def build_images(
    engine: ContainerEngine,
    *,
    registry: str,
    tags: Sequence[str],
    specs: Sequence[ImageSpec] = IMAGES,
    root: Path = ROOT,
    build_args: dict[str, str] | None = None,
) -> dict[str, list[str]]:
    """Build every image once, named with each of ``tags``; return ``{service: [references]}``.

    ``build_args`` are added to each image's own (``SERVICE``).
    """
    built: dict[str, list[str]] = {}
    for spec in specs:
        references = [spec.reference(registry, tag) for tag in tags]
        print(
            f"      building {spec.service} image from {spec.dockerfile} as {', '.join(references)}",
            flush=True,
        )
        engine.build(
            root / spec.dockerfile,
            references,
            context=root,
            build_args={**spec.build_args, **(build_args or {})},
        )
        built[spec.service] = references
    return built


def push_images(engine: ContainerEngine, built: dict[str, list[str]]) -> None:
    """Push every reference returned by :func:`build_images`."""
    for references in built.values():
        for reference in references:
            print(f"      pushing {reference}", flush=True)
            engine.push(reference)


def write_manifest(path: Path, built: dict[str, list[str]]) -> None:
    """Write the image references per service as JSON (``{"images": {service: [refs]}}``)."""
    path.write_text(json.dumps({"images": built}, indent=2, sort_keys=True) + "\n")


def read_manifest(path: Path) -> dict[str, list[str]]:
    """Read what :func:`write_manifest` wrote."""
    return json.loads(path.read_text())["images"]
