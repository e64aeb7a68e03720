"""Sign-out at the load balancer: ``/signout`` runs a small Lambda function that ends the session.

The load balancer's session cookie is HttpOnly and only a response can expire it; the Streamlit page
talks over a websocket and cannot. So the HTTPS listener sends ``/signout`` (before sign-in, so it also
works with an expired session) to a Lambda target, ``cdktf_app/sign_out/handler.py``, which expires every
shard of the session cookie and redirects to the identity provider's logout (AWS's documented way).
The function needs nothing but its own log group: no network access, no secret, no other AWS call.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tempfile
import zipfile
from pathlib import Path

from cdktf_app.cdk import (
    AssetType,
    Construct,
    Fn,
    TerraformAsset,
    cloudwatch_log_group,
    lambda_function,
    lambda_permission,
    lb_listener_rule,
    lb_target_group,
    lb_target_group_attachment,
)
from cdktf_app.constructs.iam import ServiceRole, allow

SIGN_OUT_PATH = "/signout"
HANDLER_FILE = Path(__file__).resolve().parents[1] / "sign_out" / "handler.py"
RUNTIME = "python3.12"
# A redirect with a few headers: the smallest size and a short timeout are plenty.
MEMORY_MB = 128
TIMEOUT_S = 3


def handler_package() -> bytes:
    """The function's zip: ``handler.py`` alone, with a fixed timestamp so equal code gives equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entry = zipfile.ZipInfo("handler.py", date_time=(1980, 1, 1, 0, 0, 0))
        entry.external_attr = 0o644 << 16
        archive.writestr(entry, HANDLER_FILE.read_bytes())
    return buffer.getvalue()


class SignOut(Construct):
    """The ``/signout`` listener rule, its Lambda target group and the function behind it.

    ``logout_url``/``logout_query``: the identity provider's logout endpoint and the query parameters it
    needs (``""`` when it has none: the browser then goes straight to ``signed_out_url``).
    Attributes: ``function``, ``target_group``, ``permission``, ``rule``, ``log_group``.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        listener_arn: str,
        priority: int,
        session_cookie: str,
        signed_out_url: str,
        logout_url: str,
        logout_query: dict[str, str],
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        package = handler_package()
        digest = hashlib.sha256(package).digest()
        # Named by content, so repeated synths reuse one file; the asset copies it into the synth output.
        staged = Path(tempfile.gettempdir()) / f"objdepth-sign-out-{digest.hex()[:16]}" / "sign_out.zip"
        staged.parent.mkdir(exist_ok=True)
        staged.write_bytes(package)
        code = TerraformAsset(self, "code", path=str(staged), type=AssetType.FILE)
        function_name = f"{name}-sign-out"
        self.log_group = cloudwatch_log_group.CloudwatchLogGroup(
            self, "logs", name=f"/aws/lambda/{function_name}", retention_in_days=log_retention_days
        )
        role = ServiceRole(
            self,
            "role",
            name=function_name,
            principal="lambda.amazonaws.com",
            statements=[allow(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{self.log_group.arn}:*"])],
        )
        self.function = lambda_function.LambdaFunction(
            self,
            "function",
            function_name=function_name,
            description="Signs the browser out of the load balancer's session, then out of the provider",
            role=role.role.arn,
            runtime=RUNTIME,
            handler="handler.handler",
            filename=code.path,
            source_code_hash=base64.b64encode(digest).decode("ascii"),
            memory_size=MEMORY_MB,
            timeout=TIMEOUT_S,
            environment={
                "variables": {
                    "SESSION_COOKIE": session_cookie,
                    "SIGNED_OUT_URL": signed_out_url,
                    "IDP_LOGOUT_URL": logout_url,
                    # Terraform encodes it: the client id is only known at apply.
                    "IDP_LOGOUT_QUERY": Fn.jsonencode(logout_query),
                }
            },
            depends_on=[self.log_group, role.policy],
        )
        self.target_group = lb_target_group.LbTargetGroup(
            self,
            "target-group",
            name=f"{name[:24]}-signout",
            target_type="lambda",
            lambda_multi_value_headers_enabled=True,  # one Set-Cookie header per cookie shard
        )
        self.permission = lambda_permission.LambdaPermission(
            self,
            "invoke",
            statement_id="AllowLoadBalancer",
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,
            principal="elasticloadbalancing.amazonaws.com",
            source_arn=self.target_group.arn,
        )
        lb_target_group_attachment.LbTargetGroupAttachment(
            self,
            "target",
            target_group_arn=self.target_group.arn,
            target_id=self.function.arn,
            depends_on=[self.permission],
        )
        self.rule = lb_listener_rule.LbListenerRule(
            self,
            "rule",
            listener_arn=listener_arn,
            priority=priority,
            condition=[
                lb_listener_rule.LbListenerRuleCondition(
                    path_pattern=lb_listener_rule.LbListenerRuleConditionPathPattern(values=[SIGN_OUT_PATH])
                )
            ],
            action=[
                lb_listener_rule.LbListenerRuleAction(type="forward", target_group_arn=self.target_group.arn)
            ],
        )
