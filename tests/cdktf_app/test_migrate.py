"""``python -m cdktf_app import-tfvars``: the original's variables become settings, with a true report."""

from __future__ import annotations

import tomllib
from pathlib import Path

from cdktf_app.__main__ import main
from cdktf_app.settings_file import settings_from_dict

ORIGINAL = """
region            = "eu-west-1"
ecs_cluster_name  = "objdepth-prod"
ec2_instance_type = "m6i.large"
min_size          = 2
max_size          = 5
desired_capacity  = 2
public_subnets    = ["10.0.1.0/24", "10.0.2.0/24"]
yolo_cpu          = 512
yolo_memory       = 2048
yolo_container_port = 5001
depth_desired_count = 2
depth_max_count   = 4
ami_id            = "ami-0123456789abcdef0"
cpu_high_threshold = 75
image_tag         = "latest"
notification_email = "ops@example.com"
mystery_knob      = 7
"""


def test_import_writes_a_valid_settings_file_and_reports_each_variable(tmp_path: Path, capsys) -> None:
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text(ORIGINAL, encoding="utf-8")
    out = tmp_path / "settings.toml"

    assert main(argv=["import-tfvars", str(tfvars), "--out", str(out)]) == 0

    written = out.read_text(encoding="utf-8")
    assert "# ECS cluster name" in written, "comments are kept"
    settings = settings_from_dict(tomllib.loads(written), environ={})
    assert (settings.aws_region, settings.cluster_name, settings.instance_type) == (
        "eu-west-1",
        "objdepth-prod",
        "m6i.large",
    )
    assert (settings.asg_min_size, settings.asg_max_size, settings.asg_desired_capacity) == (2, 5, 2)
    assert settings.services["detection"].container_cpu == 512
    assert (settings.services["depth"].desired_count, settings.services["depth"].max_count) == (2, 4)
    assert settings.alarm_email == "ops@example.com"
    assert settings.image_tag == "", "the moving tag the original defaulted to is not carried over"
    report = capsys.readouterr().out
    assert 'region -> aws_region = "eu-west-1"' in report
    assert "yolo_cpu -> services.detection.container_cpu = 512" in report
    assert "ami_id: the ECS-optimized AMI is read from its public SSM parameter" in report
    assert "yolo_container_port: ports come from delivery/routes.py" in report
    assert "cpu_high_threshold: instances scale by ECS managed scaling" in report
    assert "mystery_knob = 7: not a variable this tool knows" in report
    defaults = report.split("Defaults that differ")[1].split("Dropped:")[0]
    assert "state_backend" in defaults and "public_apis" in defaults and "image_tag" in defaults
    assert 'image_tag: "latest" is never pushed' in report


def test_an_import_that_would_be_invalid_writes_nothing(tmp_path: Path, capsys) -> None:
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text("min_size = 9\nmax_size = 4\n", encoding="utf-8")
    out = tmp_path / "settings.toml"
    assert main(argv=["import-tfvars", str(tfvars), "--out", str(out)]) == 2
    assert "asg_min_size (9)" in capsys.readouterr().err
    assert not out.exists()


def test_a_malformed_file_is_named(tmp_path: Path, capsys) -> None:
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text('region = "unclosed\n', encoding="utf-8")
    assert main(argv=["import-tfvars", str(tfvars), "--out", str(tmp_path / "x.toml")]) == 2
    assert "terraform.tfvars is not a readable .tfvars file" in capsys.readouterr().err
