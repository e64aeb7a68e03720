"""Start or health-check the service of this image, as the routes table describes it.

Every image runs ``python /usr/local/bin/serve`` (its CMD) and ``python /usr/local/bin/serve health``
(its HEALTHCHECK). ``SERVICE`` (set from the build argument) names the entry of ``delivery/routes.py``
that gives the port, the path prefix, the wsgi app and the health path and body, so no Dockerfile
restates them. ``serve health URL [BODY]`` checks any URL instead (2xx and, if given, exactly BODY).
In the GPU images, the library folders of NVIDIA's runtime wheels go on ``LD_LIBRARY_PATH`` first, so
that ONNX Runtime's CUDA provider finds CUDA and cuDNN (the CPU images have no such folder).
"""

from __future__ import annotations

import glob
import os
import sys
import urllib.request

UI_SCRIPT = "ui/app.py"


def this_route():
    """The routes-table entry of ``$SERVICE`` (the one place the images read the table)."""
    from delivery.routes import by_name

    return by_name(os.environ["SERVICE"])


def server_command(route) -> list[str]:
    """gunicorn for an API (its wsgi app), Streamlit for the page; both on the route's port."""
    if route.wsgi_app:
        bind = f"0.0.0.0:{route.port}"
        return ["gunicorn", "-c", "python:apis.core.gunicorn_conf", "--bind", bind, route.wsgi_app]
    return ["streamlit", "run", UI_SCRIPT, "--server.port", str(route.port), "--server.address", "0.0.0.0"]


def nvidia_library_dirs(prefix: str = sys.prefix) -> list[str]:
    """The ``lib`` folders of the NVIDIA wheels here (``nvidia/cu13/lib``, ``nvidia/cudnn/lib``, ...)."""
    return sorted(glob.glob(os.path.join(prefix, "lib", "python*", "site-packages", "nvidia", "*", "lib")))


def with_nvidia_libraries(environ: dict[str, str], dirs: list[str]) -> dict[str, str]:
    """``environ`` with ``dirs`` in front of its ``LD_LIBRARY_PATH`` (unchanged when there are none)."""
    if not dirs:
        return environ
    current = environ.get("LD_LIBRARY_PATH", "")
    return {**environ, "LD_LIBRARY_PATH": os.pathsep.join([*dirs, *([current] if current else [])])}


def check(url: str, expected: str | None) -> int:
    """0 when ``url`` answers 2xx (with exactly ``expected`` as body, if given); else print why, 1."""
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            body = response.read(1024).decode("utf-8", "replace").strip()
    except Exception as exc:  # refused, timeout, non-2xx: all unhealthy
        print(f"unhealthy: {url}: {exc}")
        return 1
    if expected is not None and body != expected:
        print(f"unhealthy: {url} answered {body[:60]!r}, expected {expected!r}")
        return 1
    return 0


def main(argv: list[str]) -> int:
    """``serve`` starts the server in this process; ``serve health [URL [BODY]]`` checks it."""
    if argv[1:2] == ["health"]:
        if len(argv) > 2:
            return check(argv[2], argv[3] if len(argv) > 3 else None)
        route = this_route()
        return check(f"http://127.0.0.1:{route.port}{route.health_path}", route.health_body)
    route = this_route()
    if route.path_prefix:
        os.environ.setdefault("PATH_PREFIX", route.path_prefix)
    command = server_command(route)
    environ = with_nvidia_libraries(dict(os.environ), nvidia_library_dirs())
    os.execvpe(command[0], command, environ)  # the server replaces this process and gets the signals


if __name__ == "__main__":
    sys.exit(main(sys.argv))
