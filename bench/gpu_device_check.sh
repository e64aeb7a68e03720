#!/usr/bin/env bash
# One run of the CUDA suites (bench/cuda.py) on a machine with an NVIDIA GPU, for a session that is lent
# one. It installs nothing (the device machine is offline): it checks what it needs, says what is
# missing, and stops with status 3 if something is.
#
# Needs:
#   - an NVIDIA driver (nvidia-smi) and a GPU that torch can use;
#   - a Python 3.11 (PYTHON=..., else .venv/bin/python, else python3) with this project's `detection`,
#     `depth` and `dev` dependencies from pyproject.toml: torch==2.14.1 as PyPI ships it (CUDA-enabled),
#     ultralytics, transformers, gunicorn, flask, requests, psutil, onnx and onnxslim (the export);
#   - for the onnx suites, onnxruntime-gpu==1.31.1 in place of onnxruntime (without it they are
#     skipped and the report says so);
#   - the test photos: OBJDEPTH_TEST_IMAGES, ./shared/images or ../shared/images (bench/suites.py reads
#     ../shared/images; this script links it there when the photos are elsewhere).
#
# Usage: bench/gpu_device_check.sh [--full]   (default --quick: about 6 minutes on one GPU;
#        BENCH_BUDGET_S bounds the run, 480 by default, so that a rerun still fits the device time)
# Writes bench/results/gpu-<gpu name>.md and .json, and copies them to $OUT when it is set.
set -u
cd "$(dirname "$0")/.."

mode=--quick
[ "${1:-}" = "--full" ] && mode=""
budget=${BENCH_BUDGET_S:-480}
export YOLO_OFFLINE=1 YOLO_AUTOINSTALL=0 HF_HUB_OFFLINE=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

python=${PYTHON:-}
if [ -z "$python" ]; then
    if .venv/bin/python -c "" 2>/dev/null; then python=.venv/bin/python; else python=python3; fi
fi
missing=()

if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv,noheader
else
    missing+=("nvidia-smi: an NVIDIA driver on this machine")
fi

if ! "$python" -c "" 2>/dev/null; then
    missing+=("a Python interpreter (set PYTHON=/path/to/python)")
else
    "$python" --version
    while IFS= read -r line; do missing+=("$line"); done < <("$python" - <<'EOF'
import importlib

for module, package in [
    ("torch", "torch==2.14.1 (PyPI's CUDA-enabled wheel)"),
    ("ultralytics", "ultralytics (pyproject.toml, detection)"),
    ("transformers", "transformers (pyproject.toml, depth)"),
    ("gunicorn", "gunicorn (pyproject.toml, api)"),
    ("flask", "flask (pyproject.toml, api)"),
    ("requests", "requests"),
    ("psutil", "psutil"),
    ("onnx", "onnx (the export)"),
    ("onnxslim", "onnxslim (ultralytics' export)"),
]:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        print(f"{package}: {exc}")
try:
    import torch

    if not torch.cuda.is_available():
        print(f"a CUDA device torch can use: torch {torch.__version__} (CUDA {torch.version.cuda}) sees none")
    else:
        print(f"ok: torch {torch.__version__} on {torch.cuda.get_device_name(0)}", flush=True)
except ImportError:
    pass
try:
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        print(f"ok: onnxruntime {onnxruntime.__version__} has no CUDA provider: the onnx suites will be skipped "
              "(install onnxruntime-gpu==1.31.1 to run them)")
except ImportError:
    print("onnxruntime or onnxruntime-gpu==1.31.1")
EOF
)
    # Lines starting "ok:" are information, not something missing.
    kept=()
    for item in "${missing[@]}"; do
        case "$item" in ok:*) echo "${item#ok: }" ;; *) kept+=("$item") ;; esac
    done
    missing=("${kept[@]}")
fi

photos=""
for folder in "${OBJDEPTH_TEST_IMAGES:-}" shared/images ../shared/images; do
    if [ -n "$folder" ] && [ -f "$folder/bus.jpg" ]; then photos=$(cd "$folder" && pwd); break; fi
done
if [ -z "$photos" ]; then
    missing+=("the test photos (bus.jpg, zidane.jpg, demo08.jpg, TEST.jpg): set OBJDEPTH_TEST_IMAGES")
elif [ ! -f ../shared/images/bus.jpg ]; then
    mkdir -p ../shared && ln -sfn "$photos" ../shared/images
fi

if [ "${#missing[@]}" -gt 0 ]; then
    echo "gpu_device_check: cannot run the CUDA suites; missing:"
    printf '  - %s\n' "${missing[@]}"
    exit 3
fi

echo "gpu_device_check: python -m bench --suite cuda $mode (at most ${budget} s)"
timeout --signal=INT "$budget" "$python" -m bench --suite cuda $mode
status=$?
if [ -n "${OUT:-}" ]; then
    cp bench/results/gpu-*.md bench/results/gpu-*.json "$OUT"/ 2>/dev/null
    cp -r bench/results/.cuda-*-server "$OUT"/ 2>/dev/null
fi
echo "gpu_device_check: exit status $status"
exit "$status"
