"""ECR: create the image repositories (idempotently), log the engine in, delete them on destroy."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class RegistryLogin:
    """Credentials for ``docker login`` to one account's ECR registry (valid 12 hours)."""

    registry: str
    username: str
    password: str


def ensure_repositories(ecr, names: Iterable[str], *, tag_mutability: str = "IMMUTABLE") -> dict[str, str]:
    """Create each repository that does not exist yet; return ``{name: repositoryUri}``.

    New repositories are made as the stack declares them (scan on push, KMS encryption with the
    AWS managed key, the stack's tag mutability), so that the stack adopts them unchanged.
    Running it again changes nothing.
    """
    uris: dict[str, str] = {}
    for name in names:
        try:
            repository = ecr.create_repository(
                repositoryName=name,
                imageScanningConfiguration={"scanOnPush": True},
                imageTagMutability=tag_mutability,
                encryptionConfiguration={"encryptionType": "KMS"},
                tags=[{"Key": "project", "Value": "objdepth"}],
            )["repository"]
            print(f"      created repository {name}", flush=True)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "RepositoryAlreadyExistsException":
                raise
            repository = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
            print(f"      repository {name} exists", flush=True)
        uris[name] = repository["repositoryUri"]
    return uris


def image_exists(ecr, repository: str, tag: str) -> bool:
    """Whether ``repository`` already holds an image tagged ``tag``."""
    try:
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return False
        raise
    return bool(found.get("imageDetails"))


def release_tag(ecr, repository: str, tag: str) -> bool:
    """Remove ``tag`` from whichever image carries it (the image stays if it has other tags).

    This is how a moving tag such as ``prod`` is re-pointed in a repository whose tags are
    immutable: release it, then push the new image with it. Returns whether the tag existed.
    """
    result = ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": tag}])
    return bool(result.get("imageIds"))


def registry_login(ecr) -> RegistryLogin:
    """Exchange the caller's AWS credentials for a registry user name and password."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    username, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    registry = data["proxyEndpoint"].removeprefix("https://").removeprefix("http://")
    return RegistryLogin(registry=registry, username=username, password=password)


def registry_host(account_id: str, region: str) -> str:
    """The ECR registry host of an account in a region."""
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com"


def delete_repositories(ecr, names: Iterable[str]) -> list[str]:
    """Delete the repositories and every image in them; return those that existed."""
    deleted = []
    for name in names:
        try:
            ecr.delete_repository(repositoryName=name, force=True)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "RepositoryNotFoundException":
                raise
            print(f"      repository {name} already gone", flush=True)
            continue
        print(f"      deleted repository {name}", flush=True)
        deleted.append(name)
    return deleted
