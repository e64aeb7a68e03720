"""The building blocks of the settings models: text formats, number ranges, the strict base model."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
_ECR_REPOSITORY = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_AWS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_ELB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
_SSM_NAME = re.compile(r"^/[A-Za-z0-9_.\-/]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
_HTTPS_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s]*)?$")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
_COGNITO_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+$")

#: Text setting -> (pattern, what it must be, whether empty is allowed).
Formats = dict[str, tuple[re.Pattern[str], str, bool]]

Port = Annotated[int, Field(ge=1, le=65535)]
Positive = Annotated[int, Field(ge=1)]
Percent = Annotated[float, Field(gt=0, le=100)]
AwsName = Annotated[str, Field(pattern=_AWS_NAME.pattern, max_length=255)]
ElbName = Annotated[str, Field(pattern=_ELB_NAME.pattern, max_length=32)]


class _Strict(BaseModel):
    """Unknown settings are errors; ``_FORMATS``: text setting -> (pattern, what it must be, optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    _FORMATS: ClassVar[Formats] = {}

    @field_validator("*")
    @classmethod
    def _format(cls, value: Any, info: ValidationInfo) -> Any:
        form = cls._FORMATS.get(info.field_name or "")
        if form is None or (form[2] and value == ""):
            return value
        pattern, what, _ = form
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value


def _subnet(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value)
    except ValueError as err:
        raise ValueError(f"{value!r} is not an IPv4 CIDR block ({err})") from None
