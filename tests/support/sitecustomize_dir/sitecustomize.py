"""Loaded by servers that tests start (via PYTHONPATH): installs the same network guard."""

import os
import sys

sys.path.insert(0, os.environ["NETGUARD_SUPPORT_DIR"])
import netguard

netguard.install()
