"""Compiled hot loops (Cython), each a faster twin of a pure-Python definition elsewhere.

``fastdecode``: the replay's window decoder for the common top-of-book and trade frames of the
four exchanges (see ``fastdecode.pyx``). It never decides anything the Python decoders would
decide differently: a row it cannot read exactly as they would is left to them.

The extension is built by ``pip install`` (Cython and a C compiler). Without it (e.g. running from
a source tree that was never built) :data:`fastdecode` is ``None`` and the replay uses the Python
decoders alone: same results, slower.
"""

from __future__ import annotations

from types import ModuleType

fastdecode: ModuleType | None
try:
    from ticktape._native import fastdecode  # type: ignore[attr-defined,no-redef]
except ImportError:  # not built: the Python decoders do everything
    fastdecode = None

__all__ = ["fastdecode"]
