# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The arbitrage strategy's common case, compiled: quotes that cannot open anything.

Why: in a replay ~99% of quotes only replace their slot's quote and loosen their book's bounds
(``ArbStrategy._quotes_inline`` documents the rule); in CPython that costs ~0.2 µs per quote,
here ~0.01. The state it reads and writes is the strategy's own (``strategies/arb_book.State``,
``array.array`` columns shared with the Python code), so nothing is copied in or out.

``quiet_run`` walks events ``start..stop`` of a batch and returns the first one Python must
handle (or ``stop``): an event at or after ``next_deadline`` (an episode may go stale), or a
quote that is not the common case (its slot has an open episode, it is not fully usable, i.e.
its hurdle is NaN, or it could open a pair). A common-case quote k on slot s is stored as
"slot s holds event k of the current batch" (``at[s] = k``; the Python side turns that into the
quote's values when asked), with its effective bid and hurdle, and raises its book's bounds.
Exactly the steps of the Python loop, in the same order, with the same IEEE comparisons.
"""


def quiet_run(
    Py_ssize_t start,
    Py_ssize_t stop,
    const int[:] slot_of,
    const long long[:] recv,
    const double[:] eff_bid,
    const double[:] hurdle,
    long long next_deadline,
    double[:] slot_eff_bid,
    double[:] slot_hurdle,
    const long long[:] slot_open,
    long long[:] slot_at,
    const long long[:] slot_book,
    double[:] book_top_bid,
    double[:] book_low_hurdle,
):
    """Store common-case quotes from ``start``; return the first event Python must handle."""
    if stop > slot_of.shape[0] or stop > recv.shape[0] or stop > eff_bid.shape[0] \
            or stop > hurdle.shape[0] or start < 0:
        raise IndexError("quiet_run: start/stop outside the batch")
    return _run(start, stop, slot_of, recv, eff_bid, hurdle, next_deadline, slot_eff_bid,
                slot_hurdle, slot_open, slot_at, slot_book, book_top_bid, book_low_hurdle)


cdef Py_ssize_t _run(
    Py_ssize_t start,
    Py_ssize_t stop,
    const int[:] slot_of,
    const long long[:] recv,
    const double[:] eff_bid,
    const double[:] hurdle,
    long long next_deadline,
    double[:] slot_eff_bid,
    double[:] slot_hurdle,
    const long long[:] slot_open,
    long long[:] slot_at,
    const long long[:] slot_book,
    double[:] book_top_bid,
    double[:] book_low_hurdle,
) noexcept nogil:
    cdef Py_ssize_t k
    cdef int s
    cdef long long b
    cdef double e, h
    for k in range(start, stop):
        if recv[k] >= next_deadline:
            return k
        s = slot_of[k]
        if s < 0:
            continue  # not a quote: it only advanced time
        if slot_open[s] != 0:
            return k
        b = slot_book[s]
        e = eff_bid[k]
        h = hurdle[k]
        if h >= book_top_bid[b] and e <= book_low_hurdle[b]:
            slot_at[s] = k
            slot_eff_bid[s] = e
            slot_hurdle[s] = h
            if e > book_top_bid[b]:
                book_top_bid[b] = e
            if h < book_low_hurdle[b]:
                book_low_hurdle[b] = h
            continue
        return k
    return stop
