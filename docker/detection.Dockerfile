# Detection API: YOLO (ultralytics) behind gunicorn on :5001, health /yoloapi/health (apis/routes.py).
# Build from the repository root:  docker build -f docker/detection.Dockerfile -t yoloflask/api .
# GPU build: --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 (and run with --gpus all).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# Same versions as the `torch` group of pyproject.toml (a test keeps them equal).
ARG TORCH_VERSION=2.14.1
ARG TORCHVISION_VERSION=0.29.1
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv \
    && pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}"
# Dependencies change less often than code: this layer is reused until pyproject.toml changes.
COPY pyproject.toml docker/requirements.py /tmp/build/
RUN python /tmp/build/requirements.py /tmp/build/pyproject.toml detection --without torch > /tmp/build/requirements.txt \
    && pip install -r /tmp/build/requirements.txt \
    && pip check
WORKDIR /app
COPY apis/ apis/
# Weights are fetched now, by the service's own loading code, so a task never downloads at start-up.
ENV DETECTION_WEIGHTS=yolo11n.pt DETECTION_WEIGHTS_DIR=/opt/models/weights \
    YOLO_CONFIG_DIR=/tmp/ultralytics YOLO_OFFLINE=1
RUN python -m apis.detection.weights

FROM ${PYTHON_IMAGE}
# OpenCV (an ultralytics dependency) needs libGL and GLib at import time.
# Unpinned on purpose (DL3008): Debian drops superseded versions from its mirrors, so pins would break
# rebuilds; the pinned base image fixes the release, and security fixes still arrive.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /tmp --no-create-home app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/models /opt/models
COPY --from=build /app /app
COPY docker/healthcheck.py /usr/local/bin/healthcheck
WORKDIR /app
# Everything written at run time goes under /tmp: the stack mounts a volume there and keeps the
# root filesystem read-only.
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HOME=/tmp \
    DETECTION_WEIGHTS=yolo11n.pt DETECTION_WEIGHTS_DIR=/opt/models/weights DETECTION_ALLOW_DOWNLOAD=false \
    YOLO_CONFIG_DIR=/tmp/ultralytics YOLO_OFFLINE=1 YOLO_AUTOINSTALL=false \
    PATH_PREFIX=/yoloapi DEVICE=cpu LOG_LEVEL=INFO GUNICORN_WORKERS=1 GUNICORN_THREADS=4
USER 10001:10001
EXPOSE 5001
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "/usr/local/bin/healthcheck", "http://127.0.0.1:5001/yoloapi/health"]
CMD ["gunicorn", "-c", "python:apis.core.gunicorn_conf", "--bind", "0.0.0.0:5001", "apis.detection.wsgi:app"]
