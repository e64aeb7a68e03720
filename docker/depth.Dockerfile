# Depth API: Depth Anything V2 (transformers) behind gunicorn on :5050, health /depthapi/health (apis/routes.py).
# Build from the repository root:  docker build -f docker/depth.Dockerfile -t depthanythingflask/api .
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
RUN python /tmp/build/requirements.py /tmp/build/pyproject.toml depth --without torch > /tmp/build/requirements.txt \
    && pip install -r /tmp/build/requirements.txt \
    && pip check
WORKDIR /app
COPY apis/ apis/
# The model is fetched now, by the service's own loading code, so a task never downloads at start-up.
ENV DEPTH_MODEL=depth-anything/Depth-Anything-V2-Small-hf HF_HOME=/opt/models/hf
RUN python -m apis.depth.weights

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /tmp --no-create-home app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/models /opt/models
COPY --from=build /app /app
COPY docker/healthcheck.py /usr/local/bin/healthcheck
WORKDIR /app
# Everything written at run time goes under /tmp: the stack mounts a volume there and keeps the
# root filesystem read-only. The model cache is read-only and used offline.
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HOME=/tmp \
    DEPTH_MODEL=depth-anything/Depth-Anything-V2-Small-hf DEPTH_ALLOW_DOWNLOAD=false \
    HF_HOME=/opt/models/hf HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 MPLCONFIGDIR=/tmp/matplotlib \
    PATH_PREFIX=/depthapi DEVICE=cpu LOG_LEVEL=INFO GUNICORN_WORKERS=1 GUNICORN_THREADS=2
USER 10001:10001
EXPOSE 5050
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "/usr/local/bin/healthcheck", "http://127.0.0.1:5050/depthapi/health"]
CMD ["gunicorn", "-c", "python:apis.core.gunicorn_conf", "--bind", "0.0.0.0:5050", "apis.depth.wsgi:app"]
