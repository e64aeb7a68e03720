# Web UI: Streamlit; calls the two APIs server-side. Port and health path (and its body `ok`) come
# from delivery/routes.py at start (docker/serve.py), as in the API image.
# Build from the repository root:  docker build -f docker/ui.Dockerfile -t objectdetectionreact/webapp .
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm
ARG SERVICE=ui

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
COPY pyproject.toml docker/requirements.py /tmp/build/
RUN python -m venv /opt/venv \
    && python /tmp/build/requirements.py /tmp/build/pyproject.toml ui > /tmp/build/requirements.txt \
    && pip install -r /tmp/build/requirements.txt \
    && pip check

FROM ${PYTHON_IMAGE}
ARG SERVICE
# Port 80 as a non-root user: the Python binary gets the one capability to bind ports below 1024
# (cap_net_bind_service, in Docker's and ECS's default set); the tool that sets it is removed again.
# Unpinned on purpose (DL3008): Debian drops superseded versions from its mirrors, so pins would break
# rebuilds; the pinned base image fixes the release, and security fixes still arrive.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcap2-bin \
    && setcap cap_net_bind_service=+ep "$(readlink -f /usr/local/bin/python3)" \
    && apt-get purge -y libcap2-bin \
    && apt-get autoremove -y \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /tmp --no-create-home app
COPY --from=build /opt/venv /opt/venv
COPY docker/serve.py /usr/local/bin/serve
WORKDIR /app
# The UI and serve read the routes table (delivery/routes.py); nothing of apis/ (no model code).
COPY delivery/__init__.py delivery/routes.py delivery/
COPY ui/ ui/
# Everything written at run time goes under /tmp: the stack mounts a volume there and keeps the
# root filesystem read-only.
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HOME=/tmp \
    SERVICE=${SERVICE} STREAMLIT_SERVER_HEADLESS=true STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none LOG_LEVEL=INFO
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/bin/serve", "health"]
CMD ["python", "/usr/local/bin/serve"]
