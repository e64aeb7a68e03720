"""Print the pinned requirements of one optional dependency group of pyproject.toml, one per line.

Used by the Dockerfiles so that each image installs exactly its service's group, and so that the
dependency layer is cached until pyproject.toml changes (the code is copied in later)::

    python requirements.py pyproject.toml detection --without torch > requirements.txt
    python requirements.py pyproject.toml onnx --serving depth > requirements.txt
    python requirements.py pyproject.toml onnx --serving depth --device cuda > requirements.txt

Self references such as ``objdepth[api,torch]`` are expanded; ``--without`` drops whole groups
(torch is installed first from PyTorch's own wheel index); ``--pick GROUP:NAME`` adds the one
requirement NAME of another group, with its pin (the ONNX images need matplotlib from ``depth``,
not the rest of it); ``--serving SERVICE`` adds the picks that API's ONNX image needs
(:data:`SERVING_PICKS`) and fails for an unknown service, so a wrong ``SERVICE`` build argument stops
the build at once; ``--device cuda`` swaps ``onnxruntime`` for the ``onnx-gpu`` group (ONNX Runtime's
CUDA build and NVIDIA's runtime wheels, :data:`DEVICE_SWAPS`). Standard library only.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

SELF_REFERENCE = re.compile(r"^\s*(?P<name>[A-Za-z0-9_.-]+)\s*\[(?P<extras>[^\]]+)\]\s*$")
PROJECT_NAME = re.compile(r"^\s*([A-Za-z0-9_.-]+)")
#: What each API's ONNX image installs besides the ``onnx`` group: depth draws its pictures.
SERVING_PICKS: dict[str, tuple[str, ...]] = {"detection": (), "depth": ("depth:matplotlib",)}
#: The image's device -> (the requirement it drops, the group it adds instead); ``cpu`` changes nothing.
DEVICE_SWAPS: dict[str, tuple[str, str] | None] = {"cpu": None, "cuda": ("onnxruntime", "onnx-gpu")}


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


def pick(pyproject: dict, spec: str) -> str:
    """The requirement called NAME in GROUP, for ``spec`` ``GROUP:NAME`` (as written there, pin included)."""
    group, _, wanted = spec.partition(":")
    groups = pyproject["project"]["optional-dependencies"]
    for requirement in groups.get(group, []):
        match = PROJECT_NAME.match(requirement)
        if match and match[1].lower() == wanted.lower():
            return requirement
    raise SystemExit(f"no requirement {wanted!r} in optional dependency group {group!r} of pyproject.toml")


def for_device(pyproject: dict, chosen: list[str], device: str) -> list[str]:
    """``chosen`` for an image serving on ``device``: the swapped requirement dropped, its group added."""
    swap = DEVICE_SWAPS[device]
    if swap is None:
        return chosen
    dropped, group = swap
    kept = [r for r in chosen if (m := PROJECT_NAME.match(r)) is None or m[1].lower() != dropped]
    return kept + [r for r in requirements(pyproject, group) if r not in kept]


def main() -> None:
    """Command line: ``requirements.py PYPROJECT GROUP [OPTIONS]`` (``--help`` lists them)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pyproject", type=Path)
    parser.add_argument("group")
    parser.add_argument("--without", action="append", default=[])
    parser.add_argument("--pick", action="append", default=[], metavar="GROUP:NAME")
    parser.add_argument("--serving", metavar="SERVICE", help="add the picks of SERVICE's ONNX image")
    parser.add_argument(
        "--device", default="cpu", help="the image's device (build argument DEVICE): cpu or cuda"
    )
    args = parser.parse_args()
    if args.serving is not None and args.serving not in SERVING_PICKS:
        parser.error(
            f"unknown service {args.serving!r} (build argument SERVICE): one of {', '.join(SERVING_PICKS)}"
        )
    if args.device not in DEVICE_SWAPS:
        parser.error(
            f"unknown device {args.device!r} (build argument DEVICE): one of {', '.join(DEVICE_SWAPS)}"
        )
    data = tomllib.loads(args.pyproject.read_text())
    chosen = requirements(data, args.group, frozenset(args.without))
    picks = [*args.pick, *SERVING_PICKS.get(args.serving, ())]
    chosen += [r for r in (pick(data, spec) for spec in picks) if r not in chosen]
    chosen = for_device(data, chosen, args.device)
    print("\n".join(chosen))


if __name__ == "__main__":
    main()
