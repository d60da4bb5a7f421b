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
    cdef Py_ssize_t k = start
    cdef int s
    cdef long long b
    cdef double e, h
    if start < 0 or stop > min(slot_of.shape[0], recv.shape[0], eff_bid.shape[0],
                                hurdle.shape[0]):
        raise IndexError("quiet_run: start/stop outside the batch")
    with nogil:
        while k < stop:
            if recv[k] >= next_deadline:
                break
            s = slot_of[k]
            if s >= 0:  # a quote (anything else only advanced time)
                if slot_open[s] != 0:
                    break
                b = slot_book[s]
                e = eff_bid[k]
                h = hurdle[k]
                if not (h >= book_top_bid[b] and e <= book_low_hurdle[b]):
                    break
                slot_at[s] = k
                slot_eff_bid[s] = e
                slot_hurdle[s] = h
                if e > book_top_bid[b]:
                    book_top_bid[b] = e
                if h < book_low_hurdle[b]:
                    book_low_hurdle[b] = h
            k += 1
    return k
