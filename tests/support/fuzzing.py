"""Hypothesis strategies of image uploads, and the checks the fuzz tests apply to every response."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import HealthCheck
from hypothesis import strategies as st
from PIL import Image

#: Pillow modes each format can store.
MODES_BY_FORMAT = {
    "PNG": ("RGB", "L", "RGBA", "P", "I;16", "1", "LA"),
    "JPEG": ("RGB", "L", "CMYK"),
    "GIF": ("P", "L", "RGB", "1"),
    "BMP": ("RGB", "L", "P", "1"),
    "WEBP": ("RGB", "RGBA"),
    "TIFF": ("RGB", "L", "RGBA", "CMYK", "I;16", "1"),
}


@st.composite
def valid_images(draw: st.DrawFn) -> bytes:
    """A real image of random size, mode and format (everything the APIs must accept)."""
    width = draw(st.integers(1, 96))
    height = draw(st.integers(1, 96))
    fmt = draw(st.sampled_from(sorted(MODES_BY_FORMAT)))
    mode = draw(st.sampled_from(MODES_BY_FORMAT[fmt]))
    seed = draw(st.integers(0, 2**16))
    picture = Image.fromarray(
        np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    )
    if mode == "I;16":
        picture = Image.fromarray(np.asarray(picture.convert("L"), dtype=np.uint16) * 257)
    else:
        picture = picture.convert(mode)
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt)
    return buffer.getvalue()


@st.composite
def broken_images(draw: st.DrawFn) -> bytes:
    """What a client may also send: truncated images, corrupted bytes, or no image at all."""
    kind = draw(st.sampled_from(("truncated", "corrupted", "noise")))
    if kind == "noise":
        return draw(st.binary(min_size=0, max_size=2048))
    data = draw(valid_images())
    if kind == "truncated":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    position = draw(st.integers(0, len(data) - 1))
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]


def assert_json_error_shape(response) -> None:
    """Every 4xx/5xx is ``{"success": false, "error": str, "code": str}``."""
    if response.status_code < 400:
        return
    body = response.json()
    assert body["success"] is False, body
    assert isinstance(body["error"], str) and body["error"], body
    assert isinstance(body["code"], str) and body["code"], body


def register_image_strategies() -> None:
    """Make schemathesis send real images wherever the OpenAPI document says binary or image/*."""
    import schemathesis

    schemathesis.openapi.format("binary", valid_images())
    for media_type in ("image/jpeg", "image/png", "image/webp", "image/bmp", "image/gif", "image/tiff"):
        schemathesis.openapi.media_type(media_type, valid_images())


def assert_valid_openapi(document: dict) -> None:
    """An OpenAPI 3.x document that the reference validator accepts."""
    from openapi_spec_validator import validate

    assert document["openapi"].startswith("3.")
    validate(document)


def assert_every_route_documented(app, document: dict) -> None:
    """Each (path, method) the Flask app serves appears in the document."""
    import re

    paths = document["paths"]
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths.get(path, {}), f"{method} {rule.rule} is served but not documented"


def assert_docs_page_works_offline(client, path: str) -> None:
    """/docs references only this API's own files, and they are served."""
    page = client.get(path).get_data(as_text=True)
    base = path.removesuffix("/docs")
    assert f'url: "{base}/openapi.json"' in page
    assert "https://" not in page and "http://" not in page  # no CDN
    for asset in (f"{base}/docs/swagger/js/swagger-ui-bundle.js", f"{base}/docs/swagger/css/swagger-ui.css"):
        assert asset in page
        assert client.get(asset).status_code == 200


#: Hypothesis settings of the fuzz tests: bounded to keep the suite short, no deadline (models are slow).
FUZZ_SETTINGS = {"deadline": None, "suppress_health_check": list(HealthCheck)}


def check_operation(case) -> None:
    """One schemathesis case: no undocumented 5xx, response matches its schema, errors are JSON."""
    assert_json_error_shape(case.call_and_validate())


#: What a broken upload may get, with the error codes each status may carry: an answer, a JSON 400
#: (empty, not an image, an unsupported format, corrupt), or a JSON 413 (over the byte limit, or a
#: header that declares more pixels than the limit). Never a 5xx.
BROKEN_UPLOAD_STATUSES = {
    200: set(),
    400: {"empty_image", "invalid_image", "unsupported_format", "truncated_image"},
    413: {"payload_too_large", "image_too_large"},
}

#: Regression cases: examples that once failed a fuzz test, kept so every run sends them again.
#: A 62-byte BMP whose header declares a 4278190081-pixel-wide picture: a correct 413 (issue #20).
BMP_DECLARING_HUGE_PICTURE = (
    b"BM>\x00\x00\x00\x00\x00\x00\x006\x00\x00\x00(\x00\x00\x00\x01\x00\x00\xff\x01\x00\x00\x00"
    b"\x01\x00\x18\x00\x00\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00"
)
BROKEN_UPLOAD_REGRESSIONS = (BMP_DECLARING_HUGE_PICTURE, b"", b"\xff\xd8\xff")


def check_broken_upload(url: str, payload: bytes) -> None:
    """A broken upload, as a multipart file and as a raw body: 200 or a JSON 4xx error, never a crash.

    The status must be one the API documents for this input (see ``BROKEN_UPLOAD_STATUSES``), the
    error must have the JSON shape and an error code of the right family, and the keep-alive
    connection must still serve the next request.
    """
    import requests

    with requests.Session() as session:
        multipart = session.post(url, files={"image": ("x.jpg", payload)}, timeout=30)
        raw = session.post(url, data=payload, headers={"Content-Type": "image/png"}, timeout=30)
        for response in (multipart, raw):
            assert response.status_code in BROKEN_UPLOAD_STATUSES, (response.status_code, response.text)
            assert_json_error_shape(response)
            if response.status_code >= 400:
                assert response.headers["Content-Type"].startswith("application/json"), response.headers
                assert response.json()["code"] in BROKEN_UPLOAD_STATUSES[response.status_code], response.text


def check_broken_upload_regressions(url: str) -> None:
    """Every example that once failed a fuzz test, and the status it must get: the huge BMP header a 413."""
    import requests

    for payload in BROKEN_UPLOAD_REGRESSIONS:
        check_broken_upload(url, payload)
    response = requests.post(url, files={"image": ("x.bmp", BMP_DECLARING_HUGE_PICTURE)}, timeout=30)
    assert (response.status_code, response.json()["code"]) == (413, "image_too_large"), response.text
