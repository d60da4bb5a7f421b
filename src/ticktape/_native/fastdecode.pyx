# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The replay's window decoder for the hot frames, compiled: rows in, columns out, no objects.

Why: in CPython a decoder call costs ~1 µs per row (parse, build the event, list it), which caps
a replay at ~0.45 M msg/s. Here one call reads a whole window of payloads and writes numpy
columns, ~0.1 µs per row.

Contract, per row (see ``decode_window``):

* A row is read here only if its route has a codec (``route_codec[route] > 0``, decided once per
  route in Python from the route's stream name, see ``ticktape.replay.native``) and the payload
  is *exactly* a frame the codec knows: the canonical layout of one top-of-book or one-trade
  message, every field it reads in strict form (plain decimals, unsigned integers, ASCII
  strings without escapes), the frame's own channel name (or MEXC symbol) equal to the route's
  ``route_expect`` bytes. Such a row gets ``status`` QUOTE or TRADE and its values.
* Any other row gets ``status`` 0 and is decoded by the Python decoder of its exchange, which
  stays the definition of every result. The codecs are held to it by differential tests
  (``tests/native``): real captured frames, generated frames, and hypothesis mutations.

So the compiled path can only ever be faster, never different: refusing is always safe.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.ref cimport Py_INCREF
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.stdint cimport int64_t

cdef enum:
    NOT_READ = 0
    QUOTE = 1
    TRADE = 2

# codec ids (route_codec values); 0 = no codec: the Python decoder reads the row
cdef enum:
    BINANCE_BOOK = 1
    BINANCE_TRADE = 2
    BYBIT_BOOK = 3
    BYBIT_TRADE = 4
    KUCOIN_LEVEL1 = 5
    KUCOIN_MATCH = 6
    MEXC_PUSH = 7

CODECS = {
    "binance_book": BINANCE_BOOK,
    "binance_trade": BINANCE_TRADE,
    "bybit_book": BYBIT_BOOK,
    "bybit_trade": BYBIT_TRADE,
    "kucoin_level1": KUCOIN_LEVEL1,
    "kucoin_match": KUCOIN_MATCH,
    "mexc_push": MEXC_PUSH,
}
"""Codec names -> ids, for the Python side that assigns a codec to each route."""


cdef struct Out:
    # QUOTE: f0..f3 = bid, bid_size, ask, ask_size. TRADE: f0, f1 = price, size.
    double f0
    double f1
    double f2
    double f3
    int64_t exch_ns  # valid when has_exch
    int has_exch
    int side  # TRADE: 0 = buy, 1 = sell (the taker's side)
    Py_ssize_t tid_start  # TRADE: trade id = payload[tid_start:tid_start + tid_len] (ASCII)
    Py_ssize_t tid_len


include "_numbers.pxi"
include "_json_codecs.pxi"
include "_mexc_codec.pxi"


cdef inline int read_row(int codec, const unsigned char* p, Py_ssize_t n,
                         const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    if codec == BINANCE_BOOK:
        return binance_book(p, n, expect, expect_n, out)
    if codec == BINANCE_TRADE:
        return binance_trade(p, n, expect, expect_n, out)
    if codec == BYBIT_BOOK:
        return bybit_book(p, n, expect, expect_n, out)
    if codec == BYBIT_TRADE:
        return bybit_trade(p, n, expect, expect_n, out)
    if codec == KUCOIN_LEVEL1:
        return kucoin_level1(p, n, expect, expect_n, out)
    if codec == KUCOIN_MATCH:
        return kucoin_match(p, n, expect, expect_n, out)
    if codec == MEXC_PUSH:
        return mexc_push(p, n, expect, expect_n, out)
    return NOT_READ


def read_one(int codec, bytes payload, bytes expect):
    """One payload through one codec (tests): ``None`` if refused, else a tuple
    ``(status, f0, f1, f2, f3, exch_ns or None, side, trade_id_text)``."""
    cdef Out out
    out.f0 = out.f1 = out.f2 = out.f3 = 0.0
    out.exch_ns = 0
    out.has_exch = 0
    out.side = 0
    out.tid_start = 0
    out.tid_len = 0
    cdef int status = read_row(codec, <const unsigned char*>payload, len(payload),
                               <const unsigned char*>expect, len(expect), &out)
    if status == NOT_READ:
        return None
    tid = payload[out.tid_start:out.tid_start + out.tid_len].decode("ascii") if status == TRADE else ""
    return (status, out.f0, out.f1, out.f2, out.f3, out.exch_ns if out.has_exch else None,
            out.side, tid)


def decode_window(
    const long long[:] addr,
    const long long[:] size,
    const long long[:] routes,
    const signed char[:] route_codec,
    list route_expect,
    signed char[:] status,
    double[:] f0,
    double[:] f1,
    double[:] f2,
    double[:] f3,
    long long[:] exch_ns,
    signed char[:] has_exch,
    signed char[:] side,
    int[:] tid_start,
    int[:] tid_len,
):
    """Read every row of a window that a codec can read; return how many were read.

    ``addr``/``size`` locate each row's payload in memory the caller keeps alive (size -1: no
    payload) and ``routes`` holds route ids: the window's columns;
    ``route_codec``/``route_expect`` are indexed by route id (``route_expect[r]`` is bytes, or
    None for a route without a codec). Every output column has one slot per row; rows left to
    Python get ``status`` 0 and untouched values.
    """
    cdef Py_ssize_t n = addr.shape[0]
    cdef Py_ssize_t n_routes = route_codec.shape[0]
    cdef Py_ssize_t r
    cdef Py_ssize_t done = 0
    cdef object expected
    cdef const unsigned char** expect_at
    cdef Py_ssize_t* expect_len
    if len(route_expect) != n_routes:
        raise ValueError("route_expect and route_codec differ in length")
    if size.shape[0] != n or routes.shape[0] != n:
        raise ValueError("addr, size and routes differ in length")
    if min(status.shape[0], f0.shape[0], f1.shape[0], f2.shape[0], f3.shape[0],
           exch_ns.shape[0], has_exch.shape[0], side.shape[0], tid_start.shape[0],
           tid_len.shape[0]) < n:
        raise ValueError("an output column is shorter than the window")
    expect_at = <const unsigned char**>PyMem_Malloc(max(n_routes, 1) * sizeof(void*))
    expect_len = <Py_ssize_t*>PyMem_Malloc(max(n_routes, 1) * sizeof(Py_ssize_t))
    if expect_at == NULL or expect_len == NULL:
        PyMem_Free(expect_at)
        PyMem_Free(expect_len)
        raise MemoryError()
    for r in range(n_routes):
        expected = route_expect[r]
        if type(expected) is bytes:  # route_expect keeps it alive through the call
            expect_at[r] = <const unsigned char*><bytes>expected
            expect_len[r] = len(<bytes>expected)
        else:
            expect_at[r] = NULL
            expect_len[r] = 0
    cdef Py_ssize_t i
    cdef long long route
    cdef int codec, got
    cdef Out out
    try:
        with nogil:
            for i in range(n):
                route = routes[i]
                status[i] = NOT_READ
                if route < 0 or route >= n_routes:
                    continue
                codec = route_codec[route]
                if codec == 0 or size[i] < 0 or expect_at[route] == NULL:
                    continue
                out.f2 = out.f3 = 0.0
                out.exch_ns = 0
                out.has_exch = 0
                out.side = 0
                out.tid_start = 0
                out.tid_len = 0
                got = read_row(codec, <const unsigned char*><size_t>addr[i], <Py_ssize_t>size[i],
                               expect_at[route], expect_len[route], &out)
                if got == NOT_READ:
                    continue
                status[i] = got
                f0[i] = out.f0
                f1[i] = out.f1
                f2[i] = out.f2
                f3[i] = out.f3
                exch_ns[i] = out.exch_ns if out.has_exch else 0
                has_exch[i] = out.has_exch
                side[i] = out.side
                tid_start[i] = <int>out.tid_start
                tid_len[i] = <int>out.tid_len
                done += 1
    finally:
        PyMem_Free(expect_at)
        PyMem_Free(expect_len)
    return done


def payload_bytes(const long long[:] addr, const long long[:] size):
    """``bytes`` copies of the memory ranges (None where size is -1): the rows' payloads."""
    cdef Py_ssize_t i, n = addr.shape[0]
    out = PyList_New(n)
    for i in range(n):
        if size[i] < 0:
            value = None
        else:
            value = PyBytes_FromStringAndSize(<const char*><size_t>addr[i], <Py_ssize_t>size[i])
        Py_INCREF(value)
        PyList_SET_ITEM(out, i, value)
    return out


def ascii_strings(const long long[:] addr, const int[:] start, const int[:] length):
    """``str`` of the ASCII bytes at ``addr[i] + start[i]`` (``length[i]`` of them): the trade
    ids the codecs located (they only accept ASCII there)."""
    cdef Py_ssize_t i, n = addr.shape[0]
    out = PyList_New(n)
    for i in range(n):
        value = PyUnicode_DecodeASCII(<const char*><size_t>(addr[i] + start[i]), length[i], NULL)
        Py_INCREF(value)
        PyList_SET_ITEM(out, i, value)
    return out


def parse_decimal_text(bytes text):
    """The strict decimal parser on its own (tests): the float, or None if refused."""
    cdef double value
    if parse_decimal(<const unsigned char*>text, len(text), &value):
        return value
    return None
