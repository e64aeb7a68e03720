"""checkov on both profiles (and the production one with GPU capacity): no failed check beyond the
resource-scoped skips of checkov_skips.yaml.

Runs in every `make test` and in CodeBuild (not marked slow): about 10 s for both files here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.cdktf_app.helpers import Synthesized

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CONFIG = ROOT / "cdktf_app" / "checkov.yaml"
SKIPS = yaml.safe_load((ROOT / "cdktf_app" / "checkov_skips.yaml").read_text(encoding="utf-8"))
# cdktf appends "_<8 hex digits>" to each construct id; skips name the construct id alone.
_HASH = re.compile(r"_[0-9A-F]{8}$")


def construct_id(resource: str) -> str:
    """``aws_lb.load-balancer_alb_15AADC07`` (or ``resource.…``) -> ``load-balancer_alb``."""
    return _HASH.sub("", resource.split(".", 1)[1])


def is_skipped(check_id: str, resource: str, profile: str) -> dict | None:
    """The skip entry covering this failure, if any."""
    for skip in SKIPS:
        if (
            skip["check"] == check_id
            and profile in skip["profiles"]
            and construct_id(resource) in skip["resources"]
        ):
            return skip
    return None


def test_every_skip_is_scoped_and_has_a_reason() -> None:
    assert SKIPS, "the skip list is read"
    for skip in SKIPS:
        assert set(skip) == {"check", "profiles", "resources", "reason"}, skip
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["check"]), skip
        assert set(skip["profiles"]) <= {"demo", "production"} and skip["profiles"]
        assert skip["resources"] and all("*" not in r for r in skip["resources"]), "no wildcard scopes"
        assert len(skip["reason"]) > 30, f"{skip['check']} needs a reason"
    assert "skip-check" not in yaml.safe_load(CONFIG.read_text(encoding="utf-8")), "skips are resource-scoped"


def test_construct_ids_are_read_from_both_forms_of_resource_name() -> None:
    assert construct_id("aws_lb.load-balancer_alb_15AADC07") == "load-balancer_alb"
    assert construct_id("resource.network_flow-logs_D7C94307") == "network_flow-logs"
    assert is_skipped("CKV_AWS_2", "aws_lb_listener.load-balancer_http_44626CBC", "demo")
    assert not is_skipped("CKV_AWS_2", "aws_lb_listener.load-balancer_http_44626CBC", "production")
    assert not is_skipped("CKV_AWS_2", "aws_lb_listener.load-balancer_https_44626CBC", "demo")


def _scan(stacks: dict[str, Synthesized], tmp_path: Path) -> list[dict]:
    files = []
    for profile, synthesized in stacks.items():
        doc = json.loads(synthesized.text)
        # checkov 3.3.30's terraform_json parser crashes on a string in the terraform block.
        doc["terraform"].pop("required_version")
        path = tmp_path / f"{profile}.tf.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        files += ["-f", str(path)]
    env = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}
    result = subprocess.run(
        [str(CHECKOV), "--config-file", str(CONFIG), *files, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    assert sum(r["summary"]["parsing_errors"] for r in reports) == 0, result.stderr[-2000:]
    assert sum(r["summary"]["passed"] for r in reports) > 300, "checkov scanned both files"
    return [check for r in reports for check in r["results"].get("failed_checks", [])]


def test_checkov_passes_on_both_profiles(
    stack: Synthesized, full_stack: Synthesized, gpu_stack: Synthesized, tmp_path: Path
) -> None:
    if not CHECKOV.exists():
        if os.environ.get("CI") or os.environ.get("CODEBUILD_BUILD_ID"):
            pytest.fail("checkov is missing: `make test` installs it into .venv-checkov")
        pytest.skip("checkov lives in .venv-checkov: make .venv-checkov/.installed")
    assert (stack.settings.profile, full_stack.settings.profile) == ("demo", "production")
    # The file's name up to its first dot is the profile whose skips apply (production.gpu: production).
    failed = _scan({"demo": stack, "production": full_stack, "production.gpu": gpu_stack}, tmp_path)
    unexpected, used = [], set()
    for check in failed:
        profile = Path(check["file_path"]).name.split(".")[0]
        skip = is_skipped(check["check_id"], check["resource"], profile)
        if skip is None:
            unexpected.append(f"{profile}: {check['check_id']} {check['resource']}: {check['check_name']}")
        else:
            used.add((skip["check"], construct_id(check["resource"])))
    assert unexpected == [], "\n".join(unexpected)
    # Resources that exist in one profile only (the WAF's logs, the API target groups) count once.
    declared = {(s["check"], r) for s in SKIPS for r in s["resources"]}
    assert sorted(declared - used) == [], "skips that no longer match a failure: remove them"
