# Both model APIs: `--build-arg SERVICE=detection` (YOLO) or `SERVICE=depth` (Depth Anything V2).
# Build from the repository root:  docker build -f docker/api.Dockerfile --build-arg SERVICE=depth .
# Port, path prefix, wsgi app and health path come from delivery/routes.py at start (docker/serve.py).
# Three stages: `export` turns the model into ONNX with torch and ultralytics or transformers; `build`
# installs only the `onnx` dependency group (plus what docker/requirements.py's SERVING_PICKS adds);
# the final image serves through ONNX Runtime and holds no torch, torchvision, ultralytics or transformers.
# `--build-arg DEVICE=cuda` makes the GPU variant: ONNX Runtime's CUDA build with NVIDIA's runtime wheels
# (pyproject.toml's onnx-gpu group) and DEVICE=cuda; no driver inside (the host's NVIDIA container
# runtime brings it: the ECS GPU-optimized AMI, or `docker run --gpus all`). Same export, same health check.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm
ARG SERVICE
# The device the image serves on (its DEVICE), and so which ONNX Runtime it installs: cpu or cuda.
ARG DEVICE=cpu
# The weights each service is exported from; the manifest must match them when the service starts.
ARG DETECTION_WEIGHTS=yolo11n.pt
ARG DEPTH_MODEL=depth-anything/Depth-Anything-V2-Small-hf

FROM ${PYTHON_IMAGE} AS export
ARG SERVICE
ARG DETECTION_WEIGHTS
ARG DEPTH_MODEL
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# Same versions as the `torch` group of pyproject.toml (a test keeps them equal).
ARG TORCH_VERSION=2.14.1
ARG TORCHVISION_VERSION=0.29.1
# The version tests/export exports with (a test keeps it equal to the dev environment's).
ARG ONNX_VERSION=1.23.2
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv \
    && pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}"
# Everything the exporters check for (onnxslim for ultralytics'), so none pip-installs anything itself.
COPY pyproject.toml docker/requirements.py /tmp/build/
RUN python /tmp/build/requirements.py /tmp/build/pyproject.toml "${SERVICE}" --without torch \
        --pick onnx:onnxruntime --pick dev:onnxslim > /tmp/build/requirements.txt \
    && pip install -r /tmp/build/requirements.txt "onnx==${ONNX_VERSION}" \
    && pip check
WORKDIR /app
COPY apis/ apis/
COPY delivery/__init__.py delivery/routes.py delivery/
# The model is fetched by the service's own loading code, then exported with its manifest.
ENV DETECTION_WEIGHTS=${DETECTION_WEIGHTS} DETECTION_WEIGHTS_DIR=/opt/models/weights \
    YOLO_CONFIG_DIR=/tmp/ultralytics YOLO_OFFLINE=1 YOLO_AUTOINSTALL=false \
    DEPTH_MODEL=${DEPTH_MODEL} HF_HOME=/opt/models/hf HF_HUB_DISABLE_TELEMETRY=1
RUN python -m "apis.${SERVICE}.weights" \
    && python -m apis.export --service "${SERVICE}" --out /opt/models/onnx

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ARG DEVICE
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
COPY pyproject.toml docker/requirements.py /tmp/build/
RUN python -m venv /opt/venv \
    && python /tmp/build/requirements.py /tmp/build/pyproject.toml onnx --serving "${SERVICE}" \
        --device "${DEVICE}" > /tmp/build/requirements.txt \
    && pip install -r /tmp/build/requirements.txt \
    && pip check

FROM ${PYTHON_IMAGE}
ARG SERVICE
ARG DEVICE
ARG DETECTION_WEIGHTS
ARG DEPTH_MODEL
RUN useradd --system --uid 10001 --user-group --home-dir /tmp --no-create-home app
COPY --from=build /opt/venv /opt/venv
COPY --from=export /opt/models/onnx /opt/models/onnx
COPY docker/serve.py /usr/local/bin/serve
WORKDIR /app
COPY apis/ apis/
COPY delivery/__init__.py delivery/routes.py delivery/
# Everything written at run time goes under /tmp: the stack mounts a volume there and keeps the
# root filesystem read-only. Each service reads only its own prefix's settings; DETECTION_WEIGHTS and
# DEPTH_MODEL name the source the manifest must match. With DEVICE=cuda, docker/serve.py puts the NVIDIA
# wheels' library folders on LD_LIBRARY_PATH before the server starts.
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HOME=/tmp \
    SERVICE=${SERVICE} DEVICE=${DEVICE} LOG_LEVEL=INFO GUNICORN_WORKERS=1 \
    DETECTION_BACKEND=onnx DETECTION_WEIGHTS=${DETECTION_WEIGHTS} DETECTION_ALLOW_DOWNLOAD=false \
    DETECTION_ONNX_PATH=/opt/models/onnx/detection.onnx \
    DEPTH_BACKEND=onnx DEPTH_MODEL=${DEPTH_MODEL} DEPTH_ALLOW_DOWNLOAD=false \
    DEPTH_ONNX_PATH=/opt/models/onnx/depth.onnx MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/bin/serve", "health"]
CMD ["python", "/usr/local/bin/serve"]
