"""Make ``exchange_samples`` (loaders for the captured real frames) importable by these tests.

pytest runs with ``--import-mode=importlib``, which does not put test directories on ``sys.path``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
