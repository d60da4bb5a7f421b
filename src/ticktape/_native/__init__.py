"""Compiled hot loops (Cython), each a faster twin of a pure-Python definition elsewhere.

``fastdecode``: the replay's window decoder for the common top-of-book and trade frames of the
four exchanges (see ``fastdecode.pyx``). It never decides anything the Python decoders would
decide differently: a row it cannot read exactly as they would is left to them.

``arbquiet``: the arbitrage strategy's common case (a quote that cannot open anything) over a
batch (see ``arbquiet.pyx``); every other event goes back to the strategy's Python code.

``eventpack``: the event digest's msgpack bytes of compiled rows, written from the columns
(see ``eventpack.pyx``); byte-identical to msgspec encoding the event objects.

The extension is built by ``pip install`` (Cython and a C compiler). Without it (e.g. running from
a source tree that was never built) :data:`fastdecode` is ``None`` and the replay uses the Python
decoders alone: same results, slower.
"""

from __future__ import annotations

from types import ModuleType

fastdecode: ModuleType | None
arbquiet: ModuleType | None
try:
    from ticktape._native import fastdecode  # type: ignore[attr-defined,no-redef]
except ImportError:  # not built: the Python decoders do everything
    fastdecode = None
try:
    from ticktape._native import arbquiet  # type: ignore[attr-defined,no-redef]
except ImportError:  # not built: the arbitrage strategy's Python loop does everything
    arbquiet = None
eventpack: ModuleType | None
try:
    from ticktape._native import eventpack  # type: ignore[attr-defined,no-redef]
except ImportError:  # not built: the digest encodes event objects with msgspec
    eventpack = None

__all__ = ["arbquiet", "eventpack", "fastdecode"]
