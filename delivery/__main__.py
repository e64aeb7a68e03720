"""``python -m delivery images|deploy|destroy [--yes]``."""

import sys

from delivery.cli import main

sys.exit(main())
