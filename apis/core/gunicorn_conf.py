"""gunicorn settings shared by both APIs (``gunicorn -c python:apis.core.gunicorn_conf ...``).

Each worker loads its own model after the fork (no ``preload_app``: torch and fork do not mix),
serves requests on threads (more than admission lets wait), and takes turns on the model through
the inference gate, which admits a request only while its expected wait fits MAX_QUEUE_WAIT_S.
Override with GUNICORN_WORKERS / GUNICORN_THREADS / GUNICORN_TIMEOUT / GUNICORN_GRACEFUL_TIMEOUT
or gunicorn's own GUNICORN_CMD_ARGS.
"""

import os

from apis.core.memory import bound_malloc_caches

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "1"))
# More threads than requests the app may admit (1 on the model + MAX_WAITING): every request then
# reaches the app, whose admission answers an overflow with a quick 503 + Retry-After, instead of
# queueing unseen in gunicorn's backlog. Idle threads cost next to nothing.
_max_waiting = int(os.environ.get("MAX_WAITING", "48"))
threads = int(os.environ.get("GUNICORN_THREADS", str(_max_waiting + 8)))
if threads <= _max_waiting + 1:
    print(
        f"gunicorn_conf: GUNICORN_THREADS={threads} <= MAX_WAITING+1={_max_waiting + 1}: overload will queue "
        "inside gunicorn instead of being answered 503",
        flush=True,
    )
# A worker busy loading a model still heartbeats (loading runs in a thread), so this only has
# to cover the longest single request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
# ECS sends SIGTERM and waits (stopTimeout, 30 s by default) before SIGKILL: finish in-flight work.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# The longest request line gunicorn takes (its maximum); form fields may come in the query string.
limit_request_line = 8190
keepalive = 75  # longer than the ALB's idle timeout would be wrong; ALB default is 60 s
# gunicorn 23+'s control socket defaults to one path per user: two services on one machine would share it.
control_socket_disable = True
accesslog = None  # the app logs one line per request with its request id
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def post_fork(server, worker):
    """Each worker gives freed photo buffers back to the system (apis/core/memory.py)."""
    bound_malloc_caches()
