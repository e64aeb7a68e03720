"""Container health check without curl: ``python healthcheck.py URL [EXPECTED_BODY]``.

Exit 0 when URL answers 2xx (and, if given, exactly EXPECTED_BODY), else 1. The images' HEALTHCHECK
uses the path the load balancer checks (apis/routes.py).
"""

import sys
import urllib.request


def main(argv: list[str]) -> int:
    """Check one URL; print why it is unhealthy."""
    url, expected = argv[1], (argv[2] if len(argv) > 2 else None)
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


if __name__ == "__main__":
    sys.exit(main(sys.argv))
