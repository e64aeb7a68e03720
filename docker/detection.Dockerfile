# Detection API: YOLO behind gunicorn on :5001, health /yoloapi/health (apis/routes.py).
# Build from the repository root:  docker build -f docker/detection.Dockerfile -t yoloflask/api .
# Three stages: `export` turns the weights into ONNX with torch and ultralytics; `build` installs only the
# `onnx` dependency group; the final image serves through ONNX Runtime (DETECTION_BACKEND=onnx) and holds
# no torch, torchvision or ultralytics.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS export
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# Same versions as the `torch` group of pyproject.toml (a test keeps them equal).
ARG TORCH_VERSION=2.14.1
ARG TORCHVISION_VERSION=0.29.1
# The version tests/onnx exports with (a test keeps it equal to the dev environment's).
ARG ONNX_VERSION=1.23.2
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv \
    && pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}"
# Everything ultralytics' ONNX exporter checks for, so it never tries to pip-install anything itself.
COPY pyproject.toml docker/requirements.py /tmp/build/
RUN python /tmp/build/requirements.py /tmp/build/pyproject.toml detection --without torch \
        --pick onnx:onnxruntime --pick dev:onnxslim > /tmp/build/requirements.txt \
    && pip install -r /tmp/build/requirements.txt "onnx==${ONNX_VERSION}" \
    && pip check
WORKDIR /app
COPY apis/ apis/
# Weights are fetched by the service's own loading code, then exported with their manifest.
ENV DETECTION_WEIGHTS=yolo11n.pt DETECTION_WEIGHTS_DIR=/opt/models/weights \
    YOLO_CONFIG_DIR=/tmp/ultralytics YOLO_OFFLINE=1 YOLO_AUTOINSTALL=false
RUN python -m apis.detection.weights \
    && python -m apis.export --service detection --out /opt/models/onnx

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
COPY pyproject.toml docker/requirements.py /tmp/build/
RUN python -m venv /opt/venv \
    && python /tmp/build/requirements.py /tmp/build/pyproject.toml onnx > /tmp/build/requirements.txt \
    && pip install -r /tmp/build/requirements.txt \
    && pip check

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /tmp --no-create-home app
COPY --from=build /opt/venv /opt/venv
COPY --from=export /opt/models/onnx /opt/models/onnx
COPY docker/healthcheck.py /usr/local/bin/healthcheck
WORKDIR /app
COPY apis/ apis/
# Everything written at run time goes under /tmp: the stack mounts a volume there and keeps the
# root filesystem read-only. DETECTION_WEIGHTS names the source the manifest must match.
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HOME=/tmp \
    DETECTION_BACKEND=onnx DETECTION_WEIGHTS=yolo11n.pt DETECTION_ONNX_PATH=/opt/models/onnx/detection.onnx \
    DETECTION_ALLOW_DOWNLOAD=false \
    PATH_PREFIX=/yoloapi DEVICE=cpu LOG_LEVEL=INFO GUNICORN_WORKERS=1 GUNICORN_THREADS=8
USER 10001:10001
EXPOSE 5001
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/bin/healthcheck", "http://127.0.0.1:5001/yoloapi/health"]
CMD ["gunicorn", "-c", "python:apis.core.gunicorn_conf", "--bind", "0.0.0.0:5001", "apis.detection.wsgi:app"]
