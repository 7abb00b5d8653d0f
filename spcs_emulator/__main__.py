"""``python -m spcs_emulator --port 8765 [--latency-ms N] [--registry-host H] [--state FILE]``."""

import sys

from .server import main

sys.exit(main())
