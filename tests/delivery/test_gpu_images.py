"""The APIs' GPU images: the Dockerfile's DEVICE, their requirements, names and tags, `make images GPU=1`,
CodeBuild's GPU switch, and how the GPU image's server finds NVIDIA's libraries. All on CPU: a CUDA image
cannot be built here (the wheels are gigabytes), so the command lines and files are what is tested."""

import argparse
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml

from delivery import cli, images
from delivery.base_image import arg_default
from tests.delivery.test_container_files import _load, _runs, only, stages
from tests.delivery.test_images import FakeEngine

ROOT = images.ROOT
DOCKERFILE = "docker/api.Dockerfile"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MODEL_LIBRARIES = ("torch", "torchvision", "ultralytics", "transformers")


def test_the_device_build_argument_picks_the_onnx_runtime_and_the_images_device():
    by_stage = stages(DOCKERFILE)
    assert arg_default(ROOT / DOCKERFILE, "DEVICE") == "cpu"  # the CPU image as it always was
    assert '--device "${DEVICE}"' in _runs(by_stage["build"])
    final = by_stage[""]
    assert ("ARG", "DEVICE") in final and "DEVICE=${DEVICE}" in only(final, "ENV").split()
    # One final stage for both devices: the same user, command and health check (the stage tests above).
    assert [name for name in by_stage] == ["export", "build", ""]
    assert not re.search(r"nvidia-driver|cuda-drivers|apt-get", (ROOT / DOCKERFILE).read_text())


@pytest.mark.parametrize("service", images.GPU_SERVICES)
def test_gpu_requirements_swap_onnxruntime_for_its_cuda_build_at_the_same_version(service):
    module = _load("docker_requirements", "requirements.py")
    serving = [*module.requirements(PYPROJECT, "onnx")]
    serving += [module.pick(PYPROJECT, p) for p in module.SERVING_PICKS[service]]
    gpu = module.for_device(PYPROJECT, serving, "cuda")

    cpu_runtime = next(r for r in serving if r.startswith("onnxruntime=="))
    assert module.for_device(PYPROJECT, serving, "cpu") == serving
    assert not any(r.startswith("onnxruntime==") for r in gpu)
    (gpu_runtime,) = [r for r in gpu if r.startswith("onnxruntime-gpu")]
    assert gpu_runtime.split("==")[1] == cpu_runtime.split("==")[1]
    assert "[cuda,cudnn]" in gpu_runtime  # NVIDIA's runtime wheels come with it
    nvidia = [r for r in gpu if r.startswith("nvidia-")]
    assert {"nvidia-cuda-runtime", "nvidia-cublas", "nvidia-cudnn-cu13"} <= {r.split("==")[0] for r in nvidia}
    assert all(re.fullmatch(r"[a-z0-9-]+==[\d.]+", r) for r in nvidia), "every NVIDIA wheel pinned"
    assert not any(r.startswith(MODEL_LIBRARIES) for r in gpu)
    assert set(serving) - {cpu_runtime} <= set(gpu)


def test_the_gpu_group_stays_out_of_the_dev_environment():
    groups = PYPROJECT["project"]["optional-dependencies"]
    assert "onnx-gpu" not in " ".join(groups["all"])


def test_an_unknown_device_stops_the_requirements_step():
    script = ["docker/requirements.py", "pyproject.toml", "onnx", "--serving", "depth", "--device", "tpu"]
    result = subprocess.run(
        [sys.executable, *script],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 2 and "unknown device 'tpu' (build argument DEVICE)" in result.stderr


def test_gpu_specs_build_the_api_variants_under_suffixed_tags_in_the_same_repositories():
    engine = FakeEngine()
    specs = images.with_gpu(images.IMAGES)
    built = images.build_images(engine, registry="reg", tags=["sha1", "prod"], specs=specs)

    assert built == {
        "detection": ["reg/yoloflask/api:sha1-gpu", "reg/yoloflask/api:prod-gpu"],
        "depth": ["reg/depthanythingflask/api:sha1-gpu", "reg/depthanythingflask/api:prod-gpu"],
        "ui": ["reg/objectdetectionreact/webapp:sha1", "reg/objectdetectionreact/webapp:prod"],
    }
    args = {call[2][0]: call[3] for call in engine.calls}
    assert args["reg/yoloflask/api:sha1-gpu"] == {"SERVICE": "detection", "DEVICE": "cuda"}
    assert args["reg/objectdetectionreact/webapp:sha1"] == {"SERVICE": "ui"}
    assert [spec.build_args for spec in images.IMAGES] == [{"SERVICE": s.service} for s in images.IMAGES]
    assert (images.plain_tag("prod-gpu"), images.plain_tag("prod"), images.variant_tag("a", "gpu")) == (
        "prod",
        "prod",
        "a-gpu",
    )


def test_images_gpu_builds_the_gpu_variants(monkeypatch, capsys):
    engine = FakeEngine()
    monkeypatch.setattr(cli, "detect_engine", lambda: engine)

    assert cli.main(["images", "--gpu", "--tag", "t1"]) == 0
    assert [call[2] for call in engine.calls] == [
        ["yoloflask/api:t1-gpu"],
        ["depthanythingflask/api:t1-gpu"],
        ["objectdetectionreact/webapp:t1"],
    ]
    engine.calls.clear()
    assert cli.main(["images", "--tag", "t1"]) == 0
    assert engine.calls[0][2] == ["yoloflask/api:t1"]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("arguments", "expected"), [(["GPU=1"], " --gpu"), ([], ""), (["GPU=0"], "")])
def test_make_images_gpu_1_passes_gpu(arguments, expected):
    result = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "images", "STAMP=", *arguments],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert result.stdout.strip() == f".venv/bin/python -m delivery images{expected}"


def test_codebuild_builds_the_gpu_variants_when_asked():
    spec = yaml.safe_load((ROOT / "buildspec.yml").read_text())
    (build,) = spec["phases"]["build"]["commands"]
    assert spec["env"]["variables"]["GPU"] == "false", "GPU images are opt-in"
    for gpu, flag in (("true", " --gpu"), ("false", "")):
        shown = subprocess.run(
            ["bash", "-c", f"echo {build.removeprefix('.venv/bin/python ')}"],
            env={"GPU": gpu, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert shown.endswith(f"--manifest image-tags.json{flag}"), shown


def test_a_moving_tag_moves_with_its_gpu_variant(monkeypatch):
    moved = []
    engine = FakeEngine()
    monkeypatch.setattr(cli, "detect_engine", lambda: engine)
    monkeypatch.setattr(cli, "aws_session", lambda: argparse.Namespace(client=lambda name: name))
    monkeypatch.setattr(cli.ecr, "ensure_repositories", lambda *args, **kwargs: None)
    monkeypatch.setattr(cli.ecr, "release_tag", lambda client, repo, tag: moved.append((repo, tag)) or True)
    references = [f"1.dkr.ecr.r.amazonaws.com/d/api:{tag}" for tag in ("abc-gpu", "prod-gpu")]
    monkeypatch.setattr(cli.images, "read_manifest", lambda path: {"depth": references})

    assert cli.push_command(argparse.Namespace(manifest="m.json", moving_tag=["prod"])) == 0
    assert moved == [("d/api", "prod-gpu")]
    assert [c[1] for c in engine.calls] == references


def test_the_server_finds_the_nvidia_wheels_libraries(tmp_path):
    serve = _load("docker_serve", "serve.py")
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    for folder in ("nvidia/cu13/lib", "nvidia/cudnn/lib", "nvidia/cu13/include", "onnxruntime/capi"):
        (site / folder).mkdir(parents=True)

    dirs = serve.nvidia_library_dirs(str(tmp_path))
    assert dirs == [str(site / "nvidia/cu13/lib"), str(site / "nvidia/cudnn/lib")]
    assert serve.with_nvidia_libraries({"LD_LIBRARY_PATH": "/x"}, dirs)["LD_LIBRARY_PATH"] == ":".join(
        [*dirs, "/x"]
    )
    assert serve.with_nvidia_libraries({"A": "1"}, dirs) == {"A": "1", "LD_LIBRARY_PATH": ":".join(dirs)}
    # A CPU image has no NVIDIA wheel: its environment is left as it is.
    assert serve.nvidia_library_dirs(str(tmp_path / "cpu")) == []
    assert serve.with_nvidia_libraries({"A": "1"}, []) == {"A": "1"}
