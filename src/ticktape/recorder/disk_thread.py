"""All disk work of a recording, on one dedicated thread, so socket reads never wait on disk.

The event loop only hands over the rows it took from its connections (``submit``: plain lists,
an O(1)-per-row copy) and time ticks (``tick``); this thread builds the Arrow batch
(:func:`~ticktape.recorder.batches.exchange_batch`), owns every
:class:`~ticktape.recorder.writer.RotatingWriter` and calls ``write`` / ``tick`` / ``close`` on
them in order. Arrow's IPC and Parquet writers release the GIL for the heavy parts, and batch
building runs in GIL slices, so the loop keeps reading meanwhile.

Failure contract: the first exception raised by a writer is kept in :attr:`DiskThread.error`
(the thread keeps draining the queue without writing, so producers never block) and the
recorder stops with a one-line error. ``close()`` finishes every queued write, converts open
segments to Parquet and joins the thread; it is safe to call twice.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import pyarrow as pa

from ticktape.recorder.batches import exchange_batch
from ticktape.recorder.rows import ConnChunk


class BatchWriter(Protocol):
    """The part of ``RotatingWriter`` this thread uses."""

    def write(self, batch: pa.RecordBatch) -> None: ...
    def tick(self, now_ns: int) -> None: ...
    def close(self) -> None: ...


_CLOSE = object()


class DiskThread:
    """Owns the writers of every exchange; see the module docstring for the contract."""

    def __init__(self, writers: Mapping[str, BatchWriter]) -> None:
        self.writers = dict(writers)
        self.error: BaseException | None = None
        self.rows_written = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ticktape-disk", daemon=True)
        self._closed = False
        self._thread.start()

    def submit(self, exchange: str, chunks: Sequence[ConnChunk]) -> None:
        """Queue rows for ``exchange``'s writer (called from the event loop; never blocks)."""
        if chunks:
            self._queue.put((exchange, chunks))

    def tick(self, now_ns: int) -> None:
        """Let every writer rotate on time (and at UTC midnight)."""
        self._queue.put(now_ns)

    def pending(self) -> int:
        """Items waiting in the queue (a writer falling behind shows here)."""
        return self._queue.qsize()

    def close(self, timeout_s: float | None = None) -> None:
        """Finish queued work, close every writer (segments become Parquet), join the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(_CLOSE)
        self._thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _CLOSE:
                break
            if self.error is not None:
                continue
            try:
                if isinstance(item, int):
                    for writer in self.writers.values():
                        writer.tick(item)
                else:
                    exchange, chunks = item
                    batch = exchange_batch(exchange, chunks)
                    if batch is not None:
                        self.writers[exchange].write(batch)
                        self.rows_written += batch.num_rows
            except BaseException as exc:
                self.error = exc
        for writer in self.writers.values():
            try:
                writer.close()
            except BaseException as exc:
                if self.error is None:
                    self.error = exc
