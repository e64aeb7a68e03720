"""Print the pinned requirements of one optional dependency group of pyproject.toml, one per line.

Used by the Dockerfiles so that each image installs exactly its service's group, and so that the
dependency layer is cached until pyproject.toml changes (the code is copied in later)::

    python requirements.py pyproject.toml detection --without torch > requirements.txt

Self references such as ``objdepth[api,torch]`` are expanded; ``--without`` drops whole groups
(torch is installed first from PyTorch's own wheel index). Standard library only.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

SELF_REFERENCE = re.compile(r"^\s*(?P<name>[A-Za-z0-9_.-]+)\s*\[(?P<extras>[^\]]+)\]\s*$")


def requirements(pyproject: dict, group: str, without: frozenset[str] = frozenset()) -> list[str]:
    """The requirement strings of ``group``, self references expanded, ``without`` groups left out."""
    name = pyproject["project"]["name"]
    groups = pyproject["project"]["optional-dependencies"]
    result: list[str] = []
    seen: set[str] = set()

    def visit(current: str) -> None:
        if current in seen or current in without:
            return
        if current not in groups:
            raise SystemExit(f"no optional dependency group {current!r} in pyproject.toml")
        seen.add(current)
        for requirement in groups[current]:
            match = SELF_REFERENCE.match(requirement)
            if match and match["name"] == name:
                for extra in match["extras"].split(","):
                    visit(extra.strip())
            elif requirement not in result:
                result.append(requirement)

    visit(group)
    return result


def main() -> None:
    """Command line: ``requirements.py PYPROJECT GROUP [--without GROUP ...]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pyproject", type=Path)
    parser.add_argument("group")
    parser.add_argument("--without", action="append", default=[])
    args = parser.parse_args()
    data = tomllib.loads(args.pyproject.read_text())
    print("\n".join(requirements(data, args.group, frozenset(args.without))))


if __name__ == "__main__":
    main()
