"""`deploy` and `destroy` end to end: every AWS call goes to moto; the engine and the stack tool are fakes."""

import json

import pytest

from delivery import cli, pipeline, prerequisites
from delivery.images import IMAGES

FAST = pipeline.Timing(wait_timeout_s=0.3, wait_poll_s=0.05, smoke_timeout_s=0.3, smoke_poll_s=0.05)
TAG = "0123456789ab"


class FakeEngine:
    def __init__(self):
        self.calls = []

    def login(self, registry, username, password):
        self.calls.append(("login", registry, username))

    def build(self, dockerfile, tags, *, context, build_args=None):
        self.calls.append(("build", dockerfile.name, *tags))

    def push(self, reference):
        self.calls.append(("push", reference))


class FakeStack:
    """Stands in for cdktf: `apply` creates the ECS services in moto, `outputs` points at a local server."""

    def __init__(self, make_services, desired, ui_url, public_apis=True):
        self.make_services, self.desired, self.ui_url = make_services, desired, ui_url
        self.public_apis = public_apis
        self.env = None
        self.calls = []

    def __call__(self, env, root):
        self.env = env
        return self

    def apply(self, adopt_repositories=()):
        self.calls.append("apply")
        self.adopted = list(adopt_repositories)
        self.make_services(self.desired, cluster="objdepth-cluster")

    def destroy(self):
        self.calls.append("destroy")

    def outputs(self):
        return {
            "ui_url": self.ui_url,
            "detection_api_url": self.ui_url + "yoloapi",
            "depth_api_url": self.ui_url + "depthapi",
            "public_apis": self.public_apis,
            "ecs_cluster_name": "objdepth-cluster",
            "ecs_service_names": {name: name for name in self.desired},
            "log_group_names": {"ui": "/objdepth/ui"},
        }


def aws_only(session):
    """The real AWS check (against moto); engine and tool checks are the fakes' business."""
    check, identity = prerequisites.check_aws(session)
    assert check.ok, check.line()
    return identity


@pytest.fixture
def deployment(aws, make_services, http_server, healthy_routes, capsys):
    def build(desired=None, routes=None, public_apis=True):
        ui_url = http_server(routes or healthy_routes) + "/"
        stack = FakeStack(
            make_services, desired or {"detection": 1, "depth": 1, "ui": 1}, ui_url, public_apis
        )
        engine = FakeEngine()
        d = pipeline.Deployment(
            aws, tag=TAG, timing=FAST, check=aws_only, engine_factory=lambda: engine, stack_factory=stack
        )
        return d, engine, stack

    return build


def test_deploy_end_to_end(deployment, aws, capsys):
    d, engine, stack = deployment()

    assert pipeline.deploy(d) == 0

    out = capsys.readouterr().out
    titles = [
        "Check prerequisites",
        "Ensure the Terraform state bucket (S3)",
        "Ensure ECR repositories",
        "Ensure the secrets in SSM",
        "Build and push",
    ]
    for i, title in enumerate(titles, 1):
        assert f"[{i}/9] {title}" in out
    assert "[8/9] Smoke-test the load balancer" in out
    assert "[9/9] Record the deployed image tag in SSM" in out
    assert f"Deployed. Open the web UI:\n  {d.outputs['ui_url']}" in out
    repositories = aws.client("ecr").describe_repositories()["repositories"]
    assert sorted(r["repositoryName"] for r in repositories) == sorted(s.repository for s in IMAGES)
    registry = repositories[0]["repositoryUri"].split("/")[0]
    assert engine.calls[0] == ("login", registry, "AWS")
    pushed = [c[1] for c in engine.calls if c[0] == "push"]
    assert pushed == [f"{registry}/{spec.repository}:{TAG}" for spec in IMAGES]
    assert stack.env["IMAGE_TAG"] == TAG
    assert stack.adopted == [spec.repository for spec in IMAGES]
    secret = aws.client("ssm").get_parameter(Name=d.cookie_secret, WithDecryption=True)["Parameter"]
    assert secret["Type"] == "SecureString" and len(secret["Value"]) >= 32
    assert secret["Value"] not in out
    assert {r["imageTagMutability"] for r in repositories} == {"IMMUTABLE"}  # as the stack declares them
    assert stack.env["AWS_REGION"] == aws.region_name and stack.env["AWS_ACCOUNT_ID"].isdigit()
    recorded = aws.client("ssm").get_parameter(Name="/objdepth/image-tag")["Parameter"]
    assert (recorded["Value"], recorded["Type"]) == (TAG, "String"), "a later bare synth deploys this tag"


def test_first_deploy_creates_the_state_bucket_and_says_so_later_ones_reuse_it(deployment, aws, capsys):
    d, _, _ = deployment()
    assert pipeline.deploy(d) == 0
    bucket = f"objdepth-cluster-tfstate-{d.identity.account_id}-{aws.region_name}"
    assert f"created state bucket {bucket}" in capsys.readouterr().out
    s3 = aws.client("s3")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    assert pipeline.deploy(d) == 0
    assert f"state bucket {bucket} exists" in capsys.readouterr().out


def test_public_apis_get_their_keys_made_once_and_never_printed(deployment, aws, capsys):
    d, _, _ = deployment()
    d.settings = d.settings.model_copy(update={"public_apis": True})
    assert pipeline.deploy(d) == 0
    keys = aws.client("ssm").get_parameter(Name="/objdepth/api-keys", WithDecryption=True)["Parameter"]
    assert keys["Type"] == "SecureString" and len(keys["Value"]) >= 32
    out = capsys.readouterr().out
    assert (
        keys["Value"] not in out
        and "aws ssm get-parameter --with-decryption --name /objdepth/api-keys" in out
    )


def test_private_apis_are_not_smoke_tested_through_the_load_balancer(deployment, healthy_routes, capsys):
    d, _, _ = deployment(routes={**healthy_routes, "/depthapi/health": (404, "the page")}, public_apis=False)
    assert pipeline.deploy(d) == 0


def test_deploy_stops_at_unstable_services_and_says_how_to_recover(deployment, capsys):
    d, _, _ = deployment(desired={"detection": 1, "depth": 1, "ui": 2})

    assert pipeline.deploy(d) == 1

    out = capsys.readouterr().out
    assert "FAILED: Wait for the ECS services to become stable" in out
    assert "ui: 1/2 tasks running" in out
    assert "make destroy" in out and "To retry:" in out
    assert "[8/9]" not in out


def test_deploy_reports_the_failing_route(deployment, healthy_routes, capsys):
    d, _, _ = deployment(routes={**healthy_routes, "/depthapi/health": (503, "loading")})

    assert pipeline.deploy(d) == 1

    out = capsys.readouterr().out
    assert "FAILED: Smoke-test the load balancer" in out
    assert "depth (http://127.0.0.1:" in out and "/depthapi/health): HTTP 503" in out


def test_missing_output_is_explained(deployment, capsys):
    d, _, stack = deployment()
    stack.outputs = lambda: {"ui_url": "http://x/"}

    assert pipeline.deploy(d) == 1

    assert "the stack has no output 'ecs_service_names' (outputs: ui_url)" in capsys.readouterr().out


def test_a_retried_deploy_builds_only_the_images_not_yet_pushed(deployment, aws, capsys):
    d, engine, _ = deployment()
    d.ensure_repositories()
    manifest = '{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}'
    aws.client("ecr").put_image(repositoryName="yoloflask/api", imageManifest=manifest, imageTag=TAG)

    d.build_and_push()

    assert [c[1] for c in engine.calls if c[0] == "build"] == ["api.Dockerfile", "ui.Dockerfile"]
    assert f"yoloflask/api:{TAG} is already in ECR; not rebuilt" in capsys.readouterr().out


def test_a_gpu_deploy_looks_for_and_builds_the_gpu_variants(deployment, aws, capsys):
    from dataclasses import replace

    from delivery import images

    d, engine, _ = deployment()
    d.repositories = replace(d.repositories, specs=images.with_gpu(d.repositories.specs))
    d.ensure_repositories()
    manifest = '{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}'
    ecr = aws.client("ecr")
    ecr.put_image(repositoryName="yoloflask/api", imageManifest=manifest, imageTag=TAG)  # the CPU image
    ecr.put_image(repositoryName="depthanythingflask/api", imageManifest=manifest, imageTag=f"{TAG}-gpu")

    d.build_and_push()

    built = [c[2].split("/", 1)[1] for c in engine.calls if c[0] == "build"]
    assert built == [f"yoloflask/api:{TAG}-gpu", f"objectdetectionreact/webapp:{TAG}"]
    assert f"depthanythingflask/api:{TAG}-gpu is already in ECR; not rebuilt" in capsys.readouterr().out


def test_destroy_deletes_the_repositories_then_the_stack_and_keeps_the_state(deployment, aws, capsys):
    d, _, stack = deployment()
    assert pipeline.deploy(d) == 0

    assert pipeline.destroy(d) == 0

    assert stack.calls == ["apply", "destroy"]
    assert aws.client("ecr").describe_repositories()["repositories"] == []
    assert aws.client("ssm").describe_parameters()["Parameters"] == []
    out = capsys.readouterr().out
    assert "Everything is deleted." in out
    bucket = d.state_bucket
    aws.client("s3").head_bucket(Bucket=bucket)  # still there
    assert f"The Terraform state bucket {bucket} is kept" in out and f"delete-bucket --bucket {bucket}" in out


def test_destroy_asks_first(capsys):
    assert not cli.confirm_destroy(read=lambda _: "y", interactive=True)
    assert "Cancelled; nothing was deleted." in capsys.readouterr().out
    assert cli.confirm_destroy(read=lambda _: "objdepth", interactive=True)


def test_destroy_without_a_terminal_needs_yes(capsys):
    assert not cli.confirm_destroy(read=pytest.fail, interactive=False)
    assert "make destroy YES=1" in capsys.readouterr().err


def test_cli_destroy_without_yes_deletes_nothing(monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "destroy", pytest.fail)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)

    assert cli.main(["destroy"]) == 1
