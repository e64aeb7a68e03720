"""The allocator settings every worker applies after the fork."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_workers_bound_the_allocator_unless_the_environment_already_does():
    # In a child process: mallopt changes the process it runs in. glibc refuses an unknown parameter.
    code = "from apis.core.memory import bound_malloc_caches; print(bound_malloc_caches())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.strip() == "True", done.stderr


def jpeg(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 150)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(("size", "trimmed"), [((2000, 1000), 1), ((1999, 1000), 0), ((640, 480), 0)])
def test_freed_pages_go_back_after_a_large_photo_is_answered(slow_app, monkeypatch, size, trimmed):
    import apis.core.predict_route as predict_route

    app, _ = slow_app
    app.extensions["model_host"].service.delay_s = 0.0
    calls = []
    monkeypatch.setattr(predict_route, "release_free_memory", lambda: calls.append(1) or True)
    response = app.test_client().post(
        "/predict", data={"image": (io.BytesIO(jpeg(*size)), "p.jpg")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    assert response.get_json()["size"] == [size[1], size[0]]
    response.close()  # the server closes the answer once sent
    assert len(calls) == trimmed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_pages_freed_between_live_blocks_are_given_back():
    # In a child process with the workers' settings: 1 MiB buffers between small live objects are
    # freed; their pages stay resident (the top of the heap is in use) until they are released.
    code = (
        "import os\n"
        "from apis.core.memory import bound_malloc_caches, release_free_memory\n"
        "def rss(): return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')\n"
        "bound_malloc_caches()\n"
        "blocks = [(bytearray(2**20), bytearray(4096)) for _ in range(64)]\n"
        "for big, _ in blocks: big[::4096] = b'x' * 256\n"  # touch every page
        "kept = [small for _, small in blocks]\n"
        "held = rss()\n"
        "del blocks\n"
        "freed = rss()\n"
        "release_free_memory()\n"
        "print((held - freed) // 2**20, (freed - rss()) // 2**20)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    given_back_by_free, given_back_by_release = map(int, done.stdout.split())
    assert given_back_by_free < 8, done.stderr  # MiB of the 64 freed
    assert given_back_by_release >= 48
