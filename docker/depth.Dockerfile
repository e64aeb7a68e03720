# Depth API: Depth Anything V2 behind gunicorn on :5050, health /depthapi/health (apis/routes.py).
# Build from the repository root:  docker build -f docker/depth.Dockerfile -t depthanythingflask/api .
# Three stages: `export` turns the model into ONNX with torch and transformers; `build` installs only the
# `onnx` dependency group (and matplotlib for the pictures); the final image serves through ONNX Runtime
# (DEPTH_BACKEND=onnx) and holds no torch, torchvision or transformers.
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
# onnxruntime checks the export against the torch model before it is kept.
COPY pyproject.toml docker/requirements.py /tmp/build/
RUN python /tmp/build/requirements.py /tmp/build/pyproject.toml depth --without torch \
        --pick onnx:onnxruntime > /tmp/build/requirements.txt \
    && pip install -r /tmp/build/requirements.txt "onnx==${ONNX_VERSION}" \
    && pip check
WORKDIR /app
COPY apis/ apis/
# The model is fetched by the service's own loading code, then exported with its manifest.
ENV DEPTH_MODEL=depth-anything/Depth-Anything-V2-Small-hf HF_HOME=/opt/models/hf HF_HUB_DISABLE_TELEMETRY=1
RUN python -m apis.depth.weights \
    && python -m apis.export --service depth --out /opt/models/onnx

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
COPY pyproject.toml docker/requirements.py /tmp/build/
RUN python -m venv /opt/venv \
    && python /tmp/build/requirements.py /tmp/build/pyproject.toml onnx --pick depth:matplotlib \
        > /tmp/build/requirements.txt \
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
# root filesystem read-only. DEPTH_MODEL names the source the manifest must match.
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HOME=/tmp \
    DEPTH_BACKEND=onnx DEPTH_MODEL=depth-anything/Depth-Anything-V2-Small-hf \
    DEPTH_ONNX_PATH=/opt/models/onnx/depth.onnx DEPTH_ALLOW_DOWNLOAD=false MPLCONFIGDIR=/tmp/matplotlib \
    PATH_PREFIX=/depthapi DEVICE=cpu LOG_LEVEL=INFO GUNICORN_WORKERS=1 GUNICORN_THREADS=8
USER 10001:10001
EXPOSE 5050
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/bin/healthcheck", "http://127.0.0.1:5050/depthapi/health"]
CMD ["gunicorn", "-c", "python:apis.core.gunicorn_conf", "--bind", "0.0.0.0:5050", "apis.depth.wsgi:app"]
