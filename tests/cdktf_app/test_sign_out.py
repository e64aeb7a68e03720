"""Sign-out in the synthesized production stack: the ``/signout`` rule, its Lambda target, the package."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

from cdktf_app.constructs.sign_out import HANDLER_FILE, SIGN_OUT_PATH, handler_package
from tests.cdktf_app.helpers import Synthesized


def _sign_out_rule(stack: Synthesized) -> dict:
    (rule,) = [
        r
        for r in stack.resources("aws_lb_listener_rule")
        if r["condition"][0]["path_pattern"]["values"] == [SIGN_OUT_PATH]
    ]
    return rule


def test_signout_forwards_to_a_lambda_target_group_with_multi_value_headers(full_stack: Synthesized) -> None:
    rule = _sign_out_rule(full_stack)
    assert full_stack.resolve(rule["listener_arn"])["protocol"] == "HTTPS"
    (action,) = rule["action"]
    assert action["type"] == "forward"
    group = full_stack.resolve(action["target_group_arn"])
    assert group["target_type"] == "lambda" and group["lambda_multi_value_headers_enabled"] is True
    (function,) = full_stack.resources("aws_lambda_function")
    (attachment,) = full_stack.resources("aws_lb_target_group_attachment")
    assert full_stack.resolve(attachment["target_group_arn"]) is group
    assert full_stack.resolve(attachment["target_id"]) is function


def test_only_that_target_group_may_invoke_the_function(full_stack: Synthesized) -> None:
    (permission,) = full_stack.resources("aws_lambda_permission")
    (function,) = full_stack.resources("aws_lambda_function")
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["principal"] == "elasticloadbalancing.amazonaws.com"
    assert full_stack.resolve(permission["function_name"]) is function
    assert full_stack.resolve(permission["source_arn"])["target_type"] == "lambda"
    (attachment,) = full_stack.resources("aws_lb_target_group_attachment")
    assert any("aws_lambda_permission." in dep for dep in attachment["depends_on"])


def test_function_redirects_to_cognito_logout_and_may_only_write_its_logs(full_stack: Synthesized) -> None:
    (function,) = full_stack.resources("aws_lambda_function")
    assert (function["handler"], function["runtime"]) == ("handler.handler", "python3.12")
    env = function["environment"]["variables"]
    assert env["SESSION_COOKIE"] == "ObjdepthSignIn"
    assert env["SIGNED_OUT_URL"] == "https://objdepth.example.com/signed-out"
    assert env["IDP_LOGOUT_URL"] == (
        "https://objdepth-cluster-${data.aws_caller_identity.identity.account_id}.auth.eu-west-1"
        ".amazoncognito.com/logout"
    )
    # Terraform writes the query as JSON at apply, when the stack's client id is known.
    (cfn_id,) = full_stack.doc["resource"]["aws_cloudformation_stack"]
    assert env["IDP_LOGOUT_QUERY"] == (
        f'${{jsonencode({{"client_id" = aws_cloudformation_stack.{cfn_id}.outputs["ClientId"], '
        f'"logout_uri" = "{env["SIGNED_OUT_URL"]}"}})}}'
    )
    role = full_stack.resolve(function["role"].replace(".arn}", ".id}"))
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    (policy,) = [
        p
        for p in full_stack.resources("aws_iam_role_policy")
        if p["role"] == function["role"].replace(".arn}", ".id}")
    ]
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == ["${aws_cloudwatch_log_group.sign-out_logs_D5175067.arn}:*"]


def test_package_is_the_handler_alone_and_its_hash_is_pinned(full_stack: Synthesized) -> None:
    package = handler_package()
    assert handler_package() == package, "the same code gives the same bytes"
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert archive.namelist() == ["handler.py"]
        assert archive.read("handler.py") == HANDLER_FILE.read_bytes()
    (function,) = full_stack.resources("aws_lambda_function")
    assert function["source_code_hash"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert function["filename"].startswith("assets/") and function["filename"].endswith("/sign_out.zip")
