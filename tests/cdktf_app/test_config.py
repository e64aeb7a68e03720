"""The settings file: defaults, environment overrides, and invalid values named in the error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cdktf_app.config import SettingsError
from cdktf_app.settings_checks import MIN_CONTAINER_MEMORY_MIB
from cdktf_app.settings_file import DEFAULT_SETTINGS_FILE, load_settings, settings_from_dict
from delivery.routes import SERVICES
from tests.cdktf_app.helpers import DEPLOYED, raw_settings

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c"


def _with(changes: dict[str, Any]) -> dict[str, Any]:
    """The settings file with each dotted setting of ``changes`` replaced (or added)."""
    raw = raw_settings()
    for path, value in changes.items():
        *parents, last = path.split(".")
        table = raw
        for key in parents:
            table = table[key]
        table[last] = value
    return raw


def test_repository_settings_file_is_the_valid_demo_profile() -> None:
    settings = load_settings(environ={})
    assert settings.cluster_name == "objdepth-cluster"
    assert settings.aws_region == "us-east-1"
    assert {name: s.image_name for name, s in settings.services.items()} == {
        "detection": "yoloflask/api",
        "depth": "depthanythingflask/api",
        "ui": "objectdetectionreact/webapp",
    }
    assert sorted(settings.services) == sorted(route.name for route in SERVICES)
    assert not settings.https_enabled and not settings.ssh_enabled
    assert not settings.enable_private_subnets


def test_every_setting_is_documented_in_the_file() -> None:
    """Each global setting has a comment on its line or just above; service tables share one block."""
    lines = DEFAULT_SETTINGS_FILE.read_text(encoding="utf-8").splitlines()
    undocumented = []
    for index, line in enumerate(lines):
        if line.startswith("[services."):
            break
        documented = "#" in line or lines[index - 1].startswith("#")
        if "=" in line and not line.startswith("#") and not documented:
            undocumented.append(line.split("=", 1)[0].strip())
    assert undocumented == []


def test_environment_overrides_region_account_and_every_image_tag() -> None:
    raw = _with({"services.depth.image_tag": "pinned"})
    env = {"IMAGE_TAG": "3f2a9c1", "AWS_REGION": "eu-central-1", "AWS_ACCOUNT_ID": "210987654321"}
    settings = settings_from_dict(raw, environ=env)
    assert settings.aws_region == "eu-central-1"
    assert settings.aws_account_id == "210987654321"
    assert {settings.image_tag_for(route.name) for route in SERVICES} == {"3f2a9c1"}


def test_per_service_tag_applies_without_image_tag_override() -> None:
    settings = settings_from_dict(_with({"services.depth.image_tag": "pinned"}), environ={"AWS_REGION": ""})
    assert settings.image_tag_for("depth") == "pinned"
    assert settings.image_tag_for("detection") == settings.image_tag == "", "no moving default such as latest"
    assert settings.aws_region == "us-east-1", "an empty variable is no override"


def test_synth_without_a_tag_or_an_account_says_how_to_get_them() -> None:
    missing = settings_from_dict(raw_settings(), environ={}).unresolved()
    assert len(missing) == 2
    assert "run `make deploy` once" in missing[0] and "/objdepth/image-tag" in missing[0]
    assert "AWS_ACCOUNT_ID" in missing[1]
    assert settings_from_dict(raw_settings(), environ=DEPLOYED).unresolved() == []


def test_state_bucket_is_named_after_account_and_region_unless_given() -> None:
    settings = settings_from_dict(raw_settings(), environ=DEPLOYED)
    assert settings.state_backend == "s3"
    assert settings.state_bucket_name == "objdepth-cluster-tfstate-123456789012-us-east-1"
    assert settings_from_dict(_with({"state_bucket": "mine"}), environ={}).state_bucket_name == "mine"


def test_production_profile_lays_its_file_over_the_settings() -> None:
    raw = _with({"certificate_arn": CERTIFICATE, "domain_name": "objdepth.example.com"})
    settings = settings_from_dict(raw, environ={"OBJDEPTH_PROFILE": "production"})
    assert settings.profile == "production"
    assert settings.instance_type == "c6i.xlarge" and settings.asg_min_size == 2
    assert {name: s.min_count for name, s in settings.services.items()} == {
        "detection": 2,
        "depth": 2,
        "ui": 2,
    }
    assert settings.services["depth"].image_name == "depthanythingflask/api", (
        "tables are merged, not replaced"
    )
    assert settings.waf_enabled and settings.access_logs_enabled and settings.alb_deletion_protection
    assert settings.https_enabled and settings.log_retention_days >= 30 and settings.enable_private_subnets
    assert settings.page_access == "cognito"
    demo = settings_from_dict(raw, environ={})
    assert (demo.profile, demo.instance_type, demo.asg_min_size) == ("demo", "t3.large", 1)
    assert demo.page_access == "open"


PRODUCTION = {"profile": "production", "certificate_arn": CERTIFICATE, "domain_name": "objdepth.example.com"}


@pytest.mark.parametrize(
    ("weakened", "named"),
    [
        ({"certificate_arn": "", "domain_name": ""}, "certificate_arn: production serves HTTPS only"),
        ({"instance_type": "t3.xlarge"}, "instance_type: t3.xlarge is burstable"),
        ({"services.depth.min_count": 1, "services.depth.desired_count": 1}, "services.depth.min_count"),
        ({"page_access": "open"}, "page_access: production signs users in"),
        ({"gpu": True, "gpu_asg_min_size": 1}, "gpu_asg_min_size: production keeps at least two GPU"),
    ],
    ids=["http", "burstable", "one-task", "open-page", "one-gpu-instance"],
)
def test_production_refuses_what_breaks_its_promises(
    weakened: dict[str, Any], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The profile file wins over settings.toml: here its values are merged in by hand, then weakened."""
    import tomllib

    from cdktf_app import settings_file

    overlay = tomllib.loads((settings_file.PROFILES_DIR / "production.toml").read_text(encoding="utf-8"))
    monkeypatch.setattr(settings_file, "PROFILES_DIR", tmp_path)  # no profile file to lay over
    raw = settings_file._merged({**raw_settings(), **PRODUCTION}, overlay)
    for path, value in weakened.items():
        *parents, last = path.split(".")
        table = raw
        for key in parents:
            table = table[key]
        table[last] = value
    with pytest.raises(SettingsError) as caught:
        settings_from_dict(raw, environ={})
    assert named in str(caught.value)


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(SettingsError, match="profile: 'staging'"):
        settings_from_dict(raw_settings(), environ={"OBJDEPTH_PROFILE": "staging"})


def test_original_container_port_is_accepted_when_it_matches_the_routes_table() -> None:
    settings = settings_from_dict(_with({"services.detection.container_port": 5001}), environ={})
    assert "container_port" not in settings.services["detection"].model_dump()


ACM = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c"
DEPTH = "services.depth"

# (changes to the settings file, the setting the error must name)
INVALID = {
    "bad-cidr": ({"vpc_cidr": "10.0.0.0/33"}, "vpc_cidr"),
    "vpc-too-large": ({"vpc_cidr": "10.0.0.0/8"}, "vpc_cidr"),
    "subnet-outside": ({"public_subnet_cidrs": ["10.0.1.0/24", "10.9.2.0/24"]}, "public_subnet_cidrs"),
    "overlap": ({"public_subnet_cidrs": ["10.0.1.0/24", "10.0.1.128/25"]}, "public_subnet_cidrs"),
    "one-az": ({"public_subnet_cidrs": ["10.0.1.0/24"]}, "public_subnet_cidrs"),
    "min-above-max": ({"asg_min_size": 5}, "asg_min_size"),
    "desired-above-max": ({"asg_desired_capacity": 9}, "asg_desired_capacity"),
    "region-format": ({"aws_region": "Virginia"}, "aws_region"),
    "account-id": ({"aws_account_id": "1234"}, "aws_account_id"),
    "port-low": ({"http_listener_port": 0}, "http_listener_port"),
    "port-high": ({"https_listener_port": 70000}, "https_listener_port"),
    "memory-floor": (
        {f"{DEPTH}.container_memory": 1024, f"{DEPTH}.container_memory_reservation": 512},
        f"{DEPTH}.container_memory",
    ),
    "container-above-task": ({"services.ui.container_memory": 4096}, "task_memory"),
    "reservation": ({"services.ui.container_memory_reservation": 600}, "container_memory_reservation"),
    "service-min-above-desired": ({"services.detection.min_count": 3}, "min_count"),
    "port-moved": ({"services.detection.container_port": 5002}, "services.detection.container_port"),
    "target-group-name": ({"services.ui.target_group_name": "x" * 33}, "services.ui.target_group_name"),
    "repository-name": ({"services.ui.image_name": "Upper/Case"}, "services.ui.image_name"),
    "log-level": ({"services.ui.log_level": "LOUD"}, "services.ui.log_level"),
    "unknown-service-setting": ({"services.ui.surprise": 1}, "services.ui.surprise"),
    "unknown-setting": ({"surprise": 1}, "surprise"),
    "instance-type": ({"instance_type": "large"}, "instance_type"),
    "root-volume": ({"root_volume_size": 8}, "root_volume_size"),
    "retention": ({"log_retention_days": 10}, "log_retention_days"),
    "certificate-arn": ({"certificate_arn": "not-an-arn"}, "certificate_arn"),
    "certificate-without-domain": ({"certificate_arn": ACM}, "domain_name"),
    "ssh-world": ({"ssh_allowed_cidr": "0.0.0.0/0"}, "ssh_allowed_cidr"),
    "ssh-half-set": ({"key_name": "ops"}, "ssh_allowed_cidr"),
    "timeout-not-below-interval": ({"health_check_timeout": 30}, "health_check_timeout"),
    "start-period": ({"container_health_check_start_period": 301}, "container_health_check_start_period"),
    "ssm-name": ({"cookie_secret_parameter": "no-leading-slash"}, "cookie_secret_parameter"),
    "email": ({"alarm_email": "nobody"}, "alarm_email"),
    "zones-region": ({"availability_zones": ["us-west-2a", "us-west-2b"]}, "availability_zones"),
    "hard-coded-ami": ({"ami_ssm_parameter": "ami-0123456789abcdef0"}, "ami_ssm_parameter"),
    "no-proxy-room": ({"services.ui.task_memory": 512}, "Service Connect proxy"),
    "cors-wildcard": ({"cors_allowed_origins": ["*"]}, "cors_allowed_origins"),
    "cors-path": ({"cors_allowed_origins": ["https://a.example.com/app"]}, "cors_allowed_origins"),
    "waf-rate": ({"waf_rate_limit": 5}, "waf_rate_limit"),
    "keys-parameter": ({"api_keys_parameter": "keys"}, "api_keys_parameter"),
    "state-backend": ({"state_backend": "consul"}, "state_backend"),
}


@pytest.mark.parametrize(("changes", "named"), INVALID.values(), ids=INVALID.keys())
def test_invalid_setting_fails_naming_it(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_from_dict(_with(changes), environ={})
    assert named in str(caught.value)


def test_missing_service_table_is_named() -> None:
    raw = raw_settings()
    del raw["services"]["depth"]
    with pytest.raises(
        SettingsError, match=r"services: need exactly the tables \['depth', 'detection', 'ui'\]"
    ):
        settings_from_dict(raw, environ={})


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("IMAGE_TAG", "not a tag!", "image_tag (from environment variable IMAGE_TAG)"),
        ("AWS_REGION", "moon-base-1a", "aws_region (from environment variable AWS_REGION)"),
        ("AWS_ACCOUNT_ID", "12345678901x", "aws_account_id (from environment variable AWS_ACCOUNT_ID)"),
    ],
)
def test_invalid_environment_override_names_setting_and_variable(
    variable: str, value: str, named: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_from_dict(raw_settings(), environ={variable: value})
    assert named in str(caught.value)


def test_every_error_is_reported_at_once() -> None:
    raw = _with({"vpc_cidr": "nonsense", "aws_region": "nowhere"})
    with pytest.raises(SettingsError) as caught:
        settings_from_dict(raw, environ={})
    assert "vpc_cidr" in str(caught.value) and "aws_region" in str(caught.value)


def test_unreadable_settings_file_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "settings.toml"
    broken.write_text("cluster_name = [unclosed", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"settings\.toml"):
        load_settings(broken, environ={})


def test_memory_floors_cover_every_service() -> None:
    assert set(MIN_CONTAINER_MEMORY_MIB) == {route.name for route in SERVICES}
