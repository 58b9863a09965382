"""The example plugin's tests reuse the delivery tests' real SMTP server (tests/delivery/delivery_helpers.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "delivery"))
