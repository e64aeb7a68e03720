"""``deploy`` and ``destroy`` as lists of steps over one shared state.

Every step is safe to run again, so the advice after any failure is the same: fix the cause and
run the command again.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import boto3

from cdktf_app.config import Settings
from cdktf_app.settings_file import load_settings
from delivery import ecr, ecs_wait, images, prerequisites, secrets, sign_in, smoke, state
from delivery.engine import ContainerEngine, describe_missing_engine, detect_engine
from delivery.routes import SERVICES
from delivery.stack import Stack, find_tools
from delivery.steps import DeliveryError, Step, run_steps


@dataclass(frozen=True)
class Timing:
    """Deadlines and poll intervals (``DEPLOY_WAIT_TIMEOUT_S``, ``DEPLOY_SMOKE_TIMEOUT_S``)."""

    wait_timeout_s: float = 1200
    wait_poll_s: float = 15
    smoke_timeout_s: float = 300
    smoke_poll_s: float = 10

    @classmethod
    def from_env(cls) -> Timing:
        """Read the two deadlines from the environment; defaults suit a first deploy on Fargate."""
        return cls(
            wait_timeout_s=float(os.environ.get("DEPLOY_WAIT_TIMEOUT_S", cls.wait_timeout_s)),
            smoke_timeout_s=float(os.environ.get("DEPLOY_SMOKE_TIMEOUT_S", cls.smoke_timeout_s)),
        )


def _default_engine() -> ContainerEngine:
    engine = detect_engine()
    if engine is None:
        raise DeliveryError(describe_missing_engine())
    return engine


@dataclass
class Deployment:
    """What a deploy or destroy works on; the factories are replaceable so tests can swap the tools."""

    session: boto3.Session
    root: Path = images.ROOT
    tag: str = ""
    timing: Timing = field(default_factory=Timing)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    check: Callable[[boto3.Session], prerequisites.AwsIdentity] = prerequisites.require
    engine_factory: Callable[[], ContainerEngine] = _default_engine
    stack_factory: Callable[[dict[str, str], Path], Stack] = lambda env, root: Stack(find_tools(), env, root)
    repositories: images.RepositorySettings = field(default_factory=images.repository_settings)
    settings: Settings = field(default_factory=load_settings)
    cookie_secret: str = field(default_factory=secrets.cookie_secret_parameter)
    identity: prerequisites.AwsIdentity | None = None
    outputs: dict[str, object] = field(default_factory=dict)
    _clients: dict[str, object] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.tag = self.tag or os.environ.get("IMAGE_TAG") or images.default_tag(self.root)

    # -- steps -------------------------------------------------------------------------------------

    def check_prerequisites(self) -> None:
        """Credentials, region, engine, Node and terraform/cdktf, each reported."""
        self.identity = self.check(self.session)

    @property
    def repository_names(self) -> list[str]:
        """The three ECR repository names, as the stack's settings have them."""
        return [spec.repository for spec in self.repositories.specs]

    def ensure_repositories(self) -> None:
        """Create the three ECR repositories if they do not exist (the stack adopts them)."""
        ecr.ensure_repositories(
            self._client("ecr"), self.repository_names, tag_mutability=self.repositories.tag_mutability
        )

    @property
    def state_bucket(self) -> str:
        """The Terraform state bucket: ``state_bucket``, else named after the account and region."""
        identity = self._identity()
        update = {"aws_account_id": identity.account_id, "aws_region": identity.region}
        return self.settings.model_copy(update=update).state_bucket_name

    def ensure_state_bucket(self) -> None:
        """Create the S3 bucket of the Terraform state if it is missing (a local backend needs none)."""
        if self.settings.state_backend != "s3":
            print("      state_backend = local: the state stays in terraform.objdepth.tfstate", flush=True)
            return
        state.ensure_state_bucket(self._client("s3"), self.state_bucket, self._identity().region)

    def ensure_secrets(self) -> None:
        """Create the UI's cookie secret (and with ``public_apis`` the API keys) if missing.

        With ``page_access = "oidc"`` the client secret must already be in Secrets Manager.
        """
        if self.settings.page_access == "oidc":
            sign_in.require_oidc_secret(self._client("secretsmanager"), self.settings.oidc_client_secret_name)
        ssm = self._client("ssm")
        secrets.ensure_secret_parameter(ssm, self.cookie_secret)
        if self.settings.public_apis:
            name = self.settings.api_keys_parameter
            if secrets.ensure_secret_parameter(ssm, name, "API keys of the objdepth APIs, comma-separated"):
                print(
                    f"      read the key with: aws ssm get-parameter --with-decryption --name {name}",
                    flush=True,
                )

    def record_image_tag(self) -> None:
        """Record the tag now running in SSM, so that a bare `cdktf deploy` later deploys the same images."""
        secrets.record_image_tag(self._client("ssm"), self.settings.image_tag_parameter, self.tag)

    def build_and_push(self) -> None:
        """Log in to ECR, build the images not yet pushed with this tag, and push them.

        Tags are immutable by default, and an image already pushed for this commit is the same
        image, so a retried deploy skips straight to the images still missing.
        """
        client = self._client("ecr")
        specs = self.repositories.specs
        missing = [s for s in specs if not ecr.image_exists(client, s.repository, s.tag(self.tag))]
        for spec in (s for s in specs if s not in missing):
            print(f"      {spec.repository}:{spec.tag(self.tag)} is already in ECR; not rebuilt", flush=True)
        if not missing:
            return
        engine = self.engine_factory()
        login = ecr.registry_login(client)
        engine.login(login.registry, login.username, login.password)
        built = images.build_images(
            engine, registry=login.registry, tags=[self.tag], specs=missing, root=self.root
        )
        images.push_images(engine, built)

    def apply_stack(self) -> None:
        """``cdktf deploy`` (or terraform apply) with IMAGE_TAG set, then read the outputs."""
        stack = self._stack()
        stack.apply(adopt_repositories=self.repository_names)
        self.outputs = stack.outputs()

    def wait_for_services(self) -> None:
        """Wait until the three ECS services run the new task definitions."""
        names = self._output("ecs_service_names")
        ecs_wait.wait_for_services(
            self._client("ecs"),
            str(self._output("ecs_cluster_name")),
            list(names.values()) if isinstance(names, dict) else list(names),
            timeout_s=self.timing.wait_timeout_s,
            poll_s=self.timing.wait_poll_s,
        )

    def smoke_test(self) -> None:
        """UI health through the load balancer, and the API health routes when they are public."""
        public = self.outputs.get("public_apis") is True
        smoke.smoke_test(
            str(self._output("ui_url")),
            routes=SERVICES if public else [route for route in SERVICES if route.is_default_route],
            timeout_s=self.timing.smoke_timeout_s,
            poll_s=self.timing.smoke_poll_s,
        )

    def destroy_stack(self) -> None:
        """``cdktf destroy`` (or terraform destroy)."""
        self._stack().destroy()

    def delete_parameters(self) -> None:
        """Delete the UI's cookie secret, the API keys and the recorded image tag from SSM."""
        ssm = self._client("ssm")
        for name in (self.cookie_secret, self.settings.api_keys_parameter, self.settings.image_tag_parameter):
            secrets.delete_secret_parameter(ssm, name)

    def delete_repositories(self) -> None:
        """Delete the three ECR repositories and their images (Terraform then finds them gone)."""
        ecr.delete_repositories(self._client("ecr"), self.repository_names)

    # -- helpers -----------------------------------------------------------------------------------

    def _client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    def _identity(self) -> prerequisites.AwsIdentity:
        if self.identity is None:
            raise DeliveryError("prerequisites were not checked")
        return self.identity

    def _stack(self) -> Stack:
        identity = self._identity()
        env = {
            "IMAGE_TAG": self.tag,
            "AWS_REGION": identity.region,
            "AWS_DEFAULT_REGION": identity.region,
            "AWS_ACCOUNT_ID": identity.account_id,
        }
        return self.stack_factory(env, self.root)

    def _output(self, name: str):
        if name not in self.outputs:
            raise DeliveryError(
                f"the stack has no output {name!r} (outputs: {', '.join(sorted(self.outputs)) or 'none'})"
            )
        return self.outputs[name]

    def print_summary(self) -> None:
        """Where to reach the deployment and its logs."""
        print("\nDeployed. Open the web UI:", file=self.out)
        print(f"  {self.outputs.get('ui_url')}", file=self.out)
        print("APIs:", file=self.out)
        print(f"  detection  {self.outputs.get('detection_api_url')}", file=self.out)
        print(f"  depth      {self.outputs.get('depth_api_url')}", file=self.out)
        groups = self.outputs.get("log_group_names")
        if groups:
            shown = ", ".join(groups.values()) if isinstance(groups, dict) else ", ".join(map(str, groups))
            print(f"Logs (CloudWatch): {shown}", file=self.out)
        cognito = self._client("cognito-idp") if self.settings.page_access == "cognito" else None
        for line in sign_in.access_summary(self.settings, self.outputs, cognito):
            print(line, file=self.out)
        print(f"Images tagged {self.tag}. Tear down with `make destroy`.", file=self.out, flush=True)


NOTHING_CREATED = "Nothing has been created in AWS yet."
NOTHING_CREATED_BUT_REPOSITORIES = "Nothing but ECR repositories (free while empty) has been created yet."
ROLL_BACK = (
    "To roll back: check out the previous commit and run `make deploy` again (its images are still in "
    "ECR); to remove everything: `make destroy`."
)


def deploy(deployment: Deployment) -> int:
    """Run the deploy steps; exit status 0 on success, 1 after printing what failed."""
    d = deployment
    steps = [
        Step("Check prerequisites", d.check_prerequisites, NOTHING_CREATED),
        Step("Ensure the Terraform state bucket (S3)", d.ensure_state_bucket, NOTHING_CREATED),
        Step("Ensure ECR repositories", d.ensure_repositories, NOTHING_CREATED_BUT_REPOSITORIES),
        Step("Ensure the secrets in SSM", d.ensure_secrets, NOTHING_CREATED_BUT_REPOSITORIES),
        Step(
            f"Build and push images (tag {d.tag})", d.build_and_push, "The running deployment is unchanged."
        ),
        Step(
            "Apply the stack (cdktf deploy)",
            d.apply_stack,
            "Terraform keeps what it created in its state; running again continues from there. " + ROLL_BACK,
        ),
        Step(
            "Wait for the ECS services to become stable",
            d.wait_for_services,
            "Look at the task logs in CloudWatch (log groups in the stack outputs) and the service events. "
            + ROLL_BACK,
        ),
        Step("Smoke-test the load balancer", d.smoke_test, ROLL_BACK),
        Step("Record the deployed image tag in SSM", d.record_image_tag, "The deployment itself is done."),
    ]
    if not run_steps(steps, d.out, retry_hint="fix the cause above, then run `make deploy` again"):
        return 1
    d.print_summary()
    return 0


def destroy(deployment: Deployment) -> int:
    """Run the destroy steps; exit status 0 on success, 1 after printing what failed.

    The repositories go first: Terraform cannot delete a repository that still holds images
    (unless the stack sets ``ecr_force_delete``), and it simply forgets one that is gone.
    """
    d = deployment
    steps = [
        Step("Check prerequisites", d.check_prerequisites, "Nothing has been deleted yet."),
        Step(
            "Delete the ECR repositories and their images", d.delete_repositories, "The stack is untouched."
        ),
        Step(
            "Destroy the stack (cdktf destroy)",
            d.destroy_stack,
            "Terraform deleted what it could; what remains is still in its state.",
        ),
        Step("Delete the secrets and the image tag record from SSM", d.delete_parameters),
    ]
    ok = run_steps(steps, d.out, retry_hint="fix the cause above, then run `make destroy` again")
    if ok:
        print("\nEverything is deleted.", file=d.out, flush=True)
        if d.settings.state_backend == "s3":
            print(state.removal_advice(d.state_bucket), file=d.out, flush=True)
    return 0 if ok else 1


def destroy_checks(session: boto3.Session) -> prerequisites.AwsIdentity:
    """Destroy needs no container engine: only credentials, Node and terraform/cdktf."""
    return prerequisites.require(session, need_engine=False)
