"""The allocator settings every worker applies after the fork."""

from __future__ import annotations

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
