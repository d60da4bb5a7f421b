# JSON codecs for Binance, Bybit and KuCoin (included by fastdecode.pyx).
#
# Each codec reads one canonical frame shape and refuses (NOT_READ) everything else; the Python
# decoders (ticktape.exchanges.binance / bybit / kucoin) stay the definition of every result.
# They parse with msgspec typed Structs (strict=False): unknown keys are skipped but must be valid
# JSON, known keys are type-checked. So here:
#
# * The whole payload must be one strict JSON object (then only whitespace). Strings hold only
#   bytes 0x20..0x7E and no backslash at all (an escape could spell a known key, or a value we
#   would read differently); nesting deeper than MAX_DEPTH is refused.
# * Every key the Python Struct knows is either read in the exact form below or refused, even
#   where Python would ignore its value (e.g. "E" in a bookTicker): a known key is type-checked
#   by msgspec, so skipping it could accept a frame Python rejects. A known key twice: refused.
# * Prices and sizes are JSON strings holding a strict decimal (parse_decimal: the same double
#   as Python's float()); integers are plain JSON unsigned integers (parse_uint). null for a
#   known key is refused even where Python accepts it.
#
# Every helper returns the index just past what it read, or -1 (refuse).

cdef long long MAX_TRADE_ID = 999_999_999_999_999_999  # 18 digits: parse_uint's own bound
cdef unsigned long long MAX_NS = 4_611_686_018_427_387_904  # 2**62: KuCoin "time" (ns)

cdef enum:
    MAX_DEPTH = 32
    C_QUOTE = 34  # "
    C_BACKSLASH = 92
    C_COMMA = 44
    C_COLON = 58
    C_LBRACE = 123
    C_RBRACE = 125
    C_LBRACKET = 91
    C_RBRACKET = 93
    C_MINUS = 45
    C_PLUS = 43
    C_DOT = 46
    C_ZERO = 48
    C_NINE = 57


# ---- the scanner --------------------------------------------------------------------------------

cdef inline Py_ssize_t skip_ws(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """The first index >= i that is not JSON whitespace (n if none)."""
    cdef unsigned char c
    while i < n:
        c = p[i]
        if c != 32 and c != 9 and c != 10 and c != 13:
            return i
        i += 1
    return n


cdef inline Py_ssize_t scan_string(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """A string at ``i`` (its opening quote): printable ASCII only, no escapes."""
    cdef unsigned char c
    if i >= n or p[i] != C_QUOTE:
        return -1
    i += 1
    while i < n:
        c = p[i]
        if c == C_QUOTE:
            return i + 1
        if c < 32 or c > 126 or c == C_BACKSLASH:
            return -1
        i += 1
    return -1


cdef inline Py_ssize_t read_string(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                   Py_ssize_t* start, Py_ssize_t* length) noexcept nogil:
    """A string at ``i``; its content is ``p[start:start + length]``."""
    cdef Py_ssize_t end = scan_string(p, i, n)
    if end < 0:
        return -1
    start[0] = i + 1
    length[0] = end - i - 2
    return end


cdef inline Py_ssize_t scan_number(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """A number at ``i`` in the strict JSON grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?"""
    if i < n and p[i] == C_MINUS:
        i += 1
    if i >= n or p[i] < C_ZERO or p[i] > C_NINE:
        return -1
    if p[i] == C_ZERO:
        i += 1
    else:
        while i < n and C_ZERO <= p[i] <= C_NINE:
            i += 1
    if i < n and p[i] == C_DOT:
        i += 1
        if i >= n or p[i] < C_ZERO or p[i] > C_NINE:
            return -1
        while i < n and C_ZERO <= p[i] <= C_NINE:
            i += 1
    if i < n and (p[i] == 101 or p[i] == 69):  # e E
        i += 1
        if i < n and (p[i] == C_PLUS or p[i] == C_MINUS):
            i += 1
        if i >= n or p[i] < C_ZERO or p[i] > C_NINE:
            return -1
        while i < n and C_ZERO <= p[i] <= C_NINE:
            i += 1
    return i


cdef inline Py_ssize_t scan_literal(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                    const char* word) noexcept nogil:
    """The literal ``word`` (true, false, null) at ``i``."""
    cdef Py_ssize_t j = 0
    while word[j] != 0:
        if i + j >= n or p[i + j] != <unsigned char>word[j]:
            return -1
        j += 1
    return i + j


cdef Py_ssize_t skip_value(const unsigned char* p, Py_ssize_t i, Py_ssize_t n, int depth) noexcept nogil:
    """Any JSON value at ``i`` (validated, not read); ``depth``: containers around it."""
    cdef unsigned char c, close
    if i >= n:
        return -1
    c = p[i]
    if c == C_QUOTE:
        return scan_string(p, i, n)
    if c == C_LBRACE or c == C_LBRACKET:
        if depth >= MAX_DEPTH:
            return -1
        close = C_RBRACE if c == C_LBRACE else C_RBRACKET
        i = skip_ws(p, i + 1, n)
        if i < n and p[i] == close:
            return i + 1
        while True:
            if c == C_LBRACE:
                i = scan_string(p, i, n)
                if i < 0:
                    return -1
                i = skip_ws(p, i, n)
                if i >= n or p[i] != C_COLON:
                    return -1
                i = skip_ws(p, i + 1, n)
            i = skip_value(p, i, n, depth + 1)
            if i < 0:
                return -1
            i = skip_ws(p, i, n)
            if i >= n:
                return -1
            if p[i] == close:
                return i + 1
            if p[i] != C_COMMA:
                return -1
            i = skip_ws(p, i + 1, n)
    if c == 116:  # t
        return scan_literal(p, i, n, b"true")
    if c == 102:  # f
        return scan_literal(p, i, n, b"false")
    if c == 110:  # n
        return scan_literal(p, i, n, b"null")
    return scan_number(p, i, n)


cdef inline Py_ssize_t open_object(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """``{`` at ``i`` followed by a first key: the index of that key's quote. An empty object
    is refused (every object read here has required keys)."""
    if i >= n or p[i] != C_LBRACE:
        return -1
    i = skip_ws(p, i + 1, n)
    if i >= n or p[i] != C_QUOTE:
        return -1
    return i


cdef inline Py_ssize_t read_key(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                Py_ssize_t* start, Py_ssize_t* length) noexcept nogil:
    """``"key"`` ``:`` at ``i``: the index of the value."""
    i = read_string(p, i, n, start, length)
    if i < 0:
        return -1
    i = skip_ws(p, i, n)
    if i >= n or p[i] != C_COLON:
        return -1
    return skip_ws(p, i + 1, n)


cdef inline Py_ssize_t next_member(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                   int* more) noexcept nogil:
    """After a member's value: ``,`` (more = 1, the index of the next key) or ``}`` (more = 0,
    the index after it)."""
    i = skip_ws(p, i, n)
    if i >= n:
        return -1
    if p[i] == C_RBRACE:
        more[0] = 0
        return i + 1
    if p[i] != C_COMMA:
        return -1
    more[0] = 1
    i = skip_ws(p, i + 1, n)
    if i >= n or p[i] != C_QUOTE:
        return -1
    return i


cdef inline Py_ssize_t end_of_root(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """Only whitespace may follow the root object."""
    if i < 0:
        return -1
    return i if skip_ws(p, i, n) == n else -1


cdef inline bint same(const unsigned char* p, Py_ssize_t start, Py_ssize_t length,
                      const char* text) noexcept nogil:
    """``p[start:start + length]`` equals the C string ``text``."""
    cdef Py_ssize_t j
    for j in range(length):
        if text[j] == 0 or p[start + j] != <unsigned char>text[j]:
            return False
    return text[length] == 0


cdef inline bint same_bytes(const unsigned char* p, Py_ssize_t start, Py_ssize_t length,
                            const unsigned char* other, Py_ssize_t other_n) noexcept nogil:
    cdef Py_ssize_t j
    if length != other_n:
        return False
    for j in range(length):
        if p[start + j] != other[j]:
            return False
    return True


# ---- typed values -------------------------------------------------------------------------------

cdef inline Py_ssize_t read_decimal(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                    double* value) noexcept nogil:
    """A JSON string holding a strict decimal (a JSON number is refused)."""
    cdef Py_ssize_t start, length
    i = read_string(p, i, n, &start, &length)
    if i < 0 or not parse_decimal(p + start, length, value):
        return -1
    return i


cdef inline Py_ssize_t read_uint(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                 long long limit, long long* value) noexcept nogil:
    """A JSON unsigned integer (no fraction, exponent or sign) <= limit."""
    cdef Py_ssize_t end = scan_number(p, i, n)
    if end < 0 or not parse_uint(p + i, end - i, limit, value):
        return -1
    return end


cdef inline Py_ssize_t read_ms(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                               int64_t* ns) noexcept nogil:
    """A millisecond timestamp (JSON unsigned integer <= MAX_MS), as nanoseconds."""
    cdef long long ms
    i = read_uint(p, i, n, MAX_MS, &ms)
    if i >= 0:
        ns[0] = ms * 1_000_000
    return i


cdef inline Py_ssize_t read_pair(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                 double* first, double* second) noexcept nogil:
    """``["<dec>","<dec>"]`` at ``i``: exactly two decimal strings."""
    if i >= n or p[i] != C_LBRACKET:
        return -1
    i = read_decimal(p, skip_ws(p, i + 1, n), n, first)
    if i < 0:
        return -1
    i = skip_ws(p, i, n)
    if i >= n or p[i] != C_COMMA:
        return -1
    i = read_decimal(p, skip_ws(p, i + 1, n), n, second)
    if i < 0:
        return -1
    i = skip_ws(p, i, n)
    if i >= n or p[i] != C_RBRACKET:
        return -1
    return i + 1


cdef inline Py_ssize_t read_one_level(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                      double* price, double* size) noexcept nogil:
    """``[["<dec>","<dec>"]]`` at ``i``: exactly one level."""
    if i >= n or p[i] != C_LBRACKET:
        return -1
    i = read_pair(p, skip_ws(p, i + 1, n), n, price, size)
    if i < 0:
        return -1
    i = skip_ws(p, i, n)
    if i >= n or p[i] != C_RBRACKET:
        return -1
    return i + 1


cdef inline Py_ssize_t read_channel(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                    const unsigned char* expect, Py_ssize_t expect_n) noexcept nogil:
    """A string equal to ``expect`` (the route's channel name)."""
    cdef Py_ssize_t start, length
    i = read_string(p, i, n, &start, &length)
    if i < 0 or not same_bytes(p, start, length, expect, expect_n):
        return -1
    return i


# ---- Binance ------------------------------------------------------------------------------------
# {"stream":"<expect>","data":{...}}; data keys known to binance._EventData: s b B a A E t p q m.

cdef enum:
    BN_S = 1
    BN_BID = 2  # b
    BN_BID_SIZE = 4  # B
    BN_ASK = 8  # a
    BN_ASK_SIZE = 16  # A
    BN_E = 32
    BN_T = 64
    BN_P = 128
    BN_Q = 256
    BN_M = 512
    BN_BOOK_KEYS = BN_BID | BN_BID_SIZE | BN_ASK | BN_ASK_SIZE
    BN_TRADE_KEYS = BN_E | BN_T | BN_P | BN_Q | BN_M


cdef Py_ssize_t binance_data(const unsigned char* p, Py_ssize_t i, Py_ssize_t n, int trade,
                             Out* out) noexcept nogil:
    """The ``data`` object: a bookTicker (``trade`` 0) or a trade (``trade`` 1)."""
    cdef int seen = 0, bit, more = 1
    cdef unsigned char c
    cdef int allowed = BN_S | (BN_TRADE_KEYS if trade else BN_BOOK_KEYS)
    cdef Py_ssize_t ks, kl, vs, vl
    cdef long long value
    i = open_object(p, i, n)
    while more:
        if i < 0:
            return -1
        i = read_key(p, i, n, &ks, &kl)
        if i < 0:
            return -1
        bit = 0
        if kl == 1:
            c = p[ks]
            if c == 115: bit = BN_S  # s
            elif c == 98: bit = BN_BID  # b
            elif c == 66: bit = BN_BID_SIZE  # B
            elif c == 97: bit = BN_ASK  # a
            elif c == 65: bit = BN_ASK_SIZE  # A
            elif c == 69: bit = BN_E  # E
            elif c == 116: bit = BN_T  # t
            elif c == 112: bit = BN_P  # p
            elif c == 113: bit = BN_Q  # q
            elif c == 109: bit = BN_M  # m
        if bit == 0:
            i = skip_value(p, i, n, 2)
        elif (bit & allowed) == 0 or (seen & bit) != 0:
            return -1
        else:
            seen |= bit
            if bit == BN_S:
                i = read_string(p, i, n, &vs, &vl)
            elif bit == BN_BID:
                i = read_decimal(p, i, n, &out.f0)
            elif bit == BN_BID_SIZE:
                i = read_decimal(p, i, n, &out.f1)
            elif bit == BN_ASK:
                i = read_decimal(p, i, n, &out.f2)
            elif bit == BN_ASK_SIZE:
                i = read_decimal(p, i, n, &out.f3)
            elif bit == BN_E:
                i = read_ms(p, i, n, &out.exch_ns)
            elif bit == BN_T:
                out.tid_start = i
                i = read_uint(p, i, n, MAX_TRADE_ID, &value)
                out.tid_len = i - out.tid_start
            elif bit == BN_P:
                i = read_decimal(p, i, n, &out.f0)
            elif bit == BN_Q:
                i = read_decimal(p, i, n, &out.f1)
            else:  # m: true = the buyer was the maker, so the taker sold
                if i < n and p[i] == 116:
                    i = scan_literal(p, i, n, b"true")
                    out.side = 1
                else:
                    i = scan_literal(p, i, n, b"false")
                    out.side = 0
        if i < 0:
            return -1
        i = next_member(p, i, n, &more)
    if i < 0 or (seen & ~BN_S) != (allowed & ~BN_S):  # "s" is optional
        return -1
    return i


cdef inline int binance_frame(const unsigned char* p, Py_ssize_t n, const unsigned char* expect,
                              Py_ssize_t expect_n, int trade, Out* out) noexcept nogil:
    cdef int seen = 0, more = 1
    cdef Py_ssize_t ks, kl
    cdef Py_ssize_t i = open_object(p, skip_ws(p, 0, n), n)
    while more:
        if i < 0:
            return NOT_READ
        i = read_key(p, i, n, &ks, &kl)
        if i < 0:
            return NOT_READ
        if same(p, ks, kl, b"stream"):
            if seen & 1:
                return NOT_READ
            seen |= 1
            i = read_channel(p, i, n, expect, expect_n)
        elif same(p, ks, kl, b"data"):
            if seen & 2:
                return NOT_READ
            seen |= 2
            i = binance_data(p, i, n, trade, out)
        else:
            i = skip_value(p, i, n, 1)
        if i < 0:
            return NOT_READ
        i = next_member(p, i, n, &more)
    if seen != 3 or end_of_root(p, i, n) < 0:
        return NOT_READ
    if trade:
        out.has_exch = 1
        return TRADE
    out.has_exch = 0  # spot bookTicker carries no event time
    return QUOTE


cdef int binance_book(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    """``{"stream":"<sym>@bookTicker","data":{"u":..,"s":..,"b":..,"B":..,"a":..,"A":..}}``."""
    return binance_frame(p, n, expect, expect_n, 0, out)


cdef int binance_trade(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    """``{"stream":"<sym>@trade","data":{"e":"trade","E":..,"s":..,"t":..,"p":..,"q":..,"m":..}}``
    (no ``b``/``a`` order ids: ``a`` is typed ``int | float`` in Python, refused here)."""
    return binance_frame(p, n, expect, expect_n, 1, out)


# ---- Bybit --------------------------------------------------------------------------------------
# {"topic":"<expect>","ts":<ms>,"type":"snapshot","data":{"b":[[..]],"a":[[..]],...}} and
# {"topic":"<expect>","ts":<ms>,"type":"snapshot","data":[{"i":..,"p":..,"v":..,"S":..,...}]};
# root keys known to bybit._Frame: topic ts type data; _BookData: b a; _TradeItem: i p v S.

cdef Py_ssize_t bybit_book_data(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                Out* out) noexcept nogil:
    """``{"b":[["<dec>","<dec>"]],"a":[["<dec>","<dec>"]],...}``: one level per side."""
    cdef int seen = 0, bit, more = 1
    cdef Py_ssize_t ks, kl
    i = open_object(p, i, n)
    while more:
        if i < 0:
            return -1
        i = read_key(p, i, n, &ks, &kl)
        if i < 0:
            return -1
        bit = 0
        if kl == 1:
            if p[ks] == 98:  # b
                bit = 1
            elif p[ks] == 97:  # a
                bit = 2
        if bit == 0:
            i = skip_value(p, i, n, 2)
        elif seen & bit:
            return -1
        else:
            seen |= bit
            if bit == 1:
                i = read_one_level(p, i, n, &out.f0, &out.f1)
            else:
                i = read_one_level(p, i, n, &out.f2, &out.f3)
        if i < 0:
            return -1
        i = next_member(p, i, n, &more)
    if i < 0 or seen != 3:
        return -1
    return i


cdef Py_ssize_t bybit_trade_data(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                 Out* out) noexcept nogil:
    """``[{"i":"<id>","p":"<dec>","v":"<dec>","S":"Buy"|"Sell",...}]``: exactly one trade."""
    cdef int seen = 0, bit, more = 1
    cdef unsigned char c
    cdef Py_ssize_t ks, kl, vs, vl
    if i >= n or p[i] != C_LBRACKET:
        return -1
    i = open_object(p, skip_ws(p, i + 1, n), n)
    while more:
        if i < 0:
            return -1
        i = read_key(p, i, n, &ks, &kl)
        if i < 0:
            return -1
        bit = 0
        if kl == 1:
            c = p[ks]
            if c == 105: bit = 1  # i
            elif c == 112: bit = 2  # p
            elif c == 118: bit = 4  # v
            elif c == 83: bit = 8  # S
        if bit == 0:
            i = skip_value(p, i, n, 3)
        elif seen & bit:
            return -1
        else:
            seen |= bit
            if bit == 1:
                i = read_string(p, i, n, &out.tid_start, &out.tid_len)
            elif bit == 2:
                i = read_decimal(p, i, n, &out.f0)
            elif bit == 4:
                i = read_decimal(p, i, n, &out.f1)
            else:
                i = read_string(p, i, n, &vs, &vl)
                if i < 0:
                    return -1
                if same(p, vs, vl, b"Buy"):
                    out.side = 0
                elif same(p, vs, vl, b"Sell"):
                    out.side = 1
                else:
                    return -1
        if i < 0:
            return -1
        i = next_member(p, i, n, &more)
    if i < 0 or seen != 15:
        return -1
    i = skip_ws(p, i, n)
    if i >= n or p[i] != C_RBRACKET:  # a second trade (or anything else): refused
        return -1
    return i + 1


cdef inline int bybit_frame(const unsigned char* p, Py_ssize_t n, const unsigned char* expect,
                            Py_ssize_t expect_n, int trade, Out* out) noexcept nogil:
    cdef int seen = 0, bit, more = 1
    cdef Py_ssize_t ks, kl, vs, vl
    cdef Py_ssize_t i = open_object(p, skip_ws(p, 0, n), n)
    while more:
        if i < 0:
            return NOT_READ
        i = read_key(p, i, n, &ks, &kl)
        if i < 0:
            return NOT_READ
        bit = 0
        if same(p, ks, kl, b"topic"):
            bit = 1
        elif same(p, ks, kl, b"ts"):
            bit = 2
        elif same(p, ks, kl, b"type"):
            bit = 4
        elif same(p, ks, kl, b"data"):
            bit = 8
        if bit == 0:
            i = skip_value(p, i, n, 1)
        elif seen & bit:
            return NOT_READ
        else:
            seen |= bit
            if bit == 1:
                i = read_channel(p, i, n, expect, expect_n)
            elif bit == 2:
                i = read_ms(p, i, n, &out.exch_ns)
            elif bit == 4:  # books: only snapshots (a delta depends on the decoder's state)
                i = read_string(p, i, n, &vs, &vl)
                if i >= 0 and not trade and not same(p, vs, vl, b"snapshot"):
                    return NOT_READ
            elif trade:
                i = bybit_trade_data(p, i, n, out)
            else:
                i = bybit_book_data(p, i, n, out)
        if i < 0:
            return NOT_READ
        i = next_member(p, i, n, &more)
    if end_of_root(p, i, n) < 0:
        return NOT_READ
    if trade:
        seen |= 4  # a trade frame's "type" is optional (a string if present)
    if seen != 15:
        return NOT_READ
    out.has_exch = 1
    return TRADE if trade else QUOTE


cdef int bybit_book(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    """A level-1 snapshot with one bid and one ask level."""
    return bybit_frame(p, n, expect, expect_n, 0, out)


cdef int bybit_trade(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    """A publicTrade frame holding exactly one trade."""
    return bybit_frame(p, n, expect, expect_n, 1, out)


# ---- KuCoin -------------------------------------------------------------------------------------
# {"topic":"<expect>","subject":..,"data":{...}} (any key order; "type" and others skipped);
# data keys known to kucoin._Data: asks bids timestamp bestBid bestBidSize bestAsk bestAskSize
# Time price size side tradeId time.

cdef enum:
    KU_ASKS = 1
    KU_BIDS = 2
    KU_TIMESTAMP = 4
    KU_PRICE = 8
    KU_SIZE = 16
    KU_SIDE = 32
    KU_TRADE_ID = 64
    KU_TIME = 128
    KU_OTHER = 256  # bestBid, bestBidSize, bestAsk, bestAskSize, Time: never read here
    KU_LEVEL1_KEYS = KU_ASKS | KU_BIDS | KU_TIMESTAMP
    KU_MATCH_KEYS = KU_PRICE | KU_SIZE | KU_SIDE | KU_TRADE_ID | KU_TIME


cdef inline int kucoin_key(const unsigned char* p, Py_ssize_t ks, Py_ssize_t kl) noexcept nogil:
    """The bit of a key _Data knows, 0 for unknown keys."""
    if same(p, ks, kl, b"asks"): return KU_ASKS
    if same(p, ks, kl, b"bids"): return KU_BIDS
    if same(p, ks, kl, b"timestamp"): return KU_TIMESTAMP
    if same(p, ks, kl, b"price"): return KU_PRICE
    if same(p, ks, kl, b"size"): return KU_SIZE
    if same(p, ks, kl, b"side"): return KU_SIDE
    if same(p, ks, kl, b"tradeId"): return KU_TRADE_ID
    if same(p, ks, kl, b"time"): return KU_TIME
    if (same(p, ks, kl, b"bestBid") or same(p, ks, kl, b"bestBidSize")
            or same(p, ks, kl, b"bestAsk") or same(p, ks, kl, b"bestAskSize")
            or same(p, ks, kl, b"Time")):
        return KU_OTHER
    return 0


cdef inline Py_ssize_t read_ns_text(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                    int64_t* ns) noexcept nogil:
    """A JSON string of decimal digits (no leading zero) below 2**62: nanoseconds."""
    cdef Py_ssize_t start, length, j
    cdef unsigned long long v = 0
    i = read_string(p, i, n, &start, &length)
    if i < 0 or length < 1 or length > 19:
        return -1
    if p[start] == C_ZERO and length > 1:
        return -1
    for j in range(start, start + length):
        if p[j] < C_ZERO or p[j] > C_NINE:
            return -1
        v = v * 10 + (p[j] - C_ZERO)  # 19 digits < 2**64: no overflow
    if v >= MAX_NS:
        return -1
    ns[0] = <int64_t>v
    return i


cdef Py_ssize_t kucoin_data(const unsigned char* p, Py_ssize_t i, Py_ssize_t n, int trade,
                            Out* out) noexcept nogil:
    """The ``data`` object: level1 (``trade`` 0) or match (``trade`` 1)."""
    cdef int seen = 0, bit, more = 1
    cdef int allowed = KU_MATCH_KEYS if trade else KU_LEVEL1_KEYS
    cdef Py_ssize_t ks, kl, vs, vl
    i = open_object(p, i, n)
    while more:
        if i < 0:
            return -1
        i = read_key(p, i, n, &ks, &kl)
        if i < 0:
            return -1
        bit = kucoin_key(p, ks, kl)
        if bit == 0:
            i = skip_value(p, i, n, 2)
        elif (bit & allowed) == 0 or (seen & bit) != 0:
            return -1
        else:
            seen |= bit
            if bit == KU_ASKS:
                i = read_pair(p, i, n, &out.f2, &out.f3)
            elif bit == KU_BIDS:
                i = read_pair(p, i, n, &out.f0, &out.f1)
            elif bit == KU_TIMESTAMP:
                i = read_ms(p, i, n, &out.exch_ns)
            elif bit == KU_PRICE:
                i = read_decimal(p, i, n, &out.f0)
            elif bit == KU_SIZE:
                i = read_decimal(p, i, n, &out.f1)
            elif bit == KU_TRADE_ID:
                i = read_string(p, i, n, &out.tid_start, &out.tid_len)
            elif bit == KU_TIME:
                i = read_ns_text(p, i, n, &out.exch_ns)
            else:  # side
                i = read_string(p, i, n, &vs, &vl)
                if i < 0:
                    return -1
                if same(p, vs, vl, b"buy"):
                    out.side = 0
                elif same(p, vs, vl, b"sell"):
                    out.side = 1
                else:
                    return -1
        if i < 0:
            return -1
        i = next_member(p, i, n, &more)
    if i < 0 or seen != allowed:
        return -1
    return i


cdef inline int kucoin_frame(const unsigned char* p, Py_ssize_t n, const unsigned char* expect,
                             Py_ssize_t expect_n, int trade, Out* out) noexcept nogil:
    cdef int seen = 0, bit, more = 1
    cdef Py_ssize_t ks, kl, vs, vl
    cdef Py_ssize_t i = open_object(p, skip_ws(p, 0, n), n)
    while more:
        if i < 0:
            return NOT_READ
        i = read_key(p, i, n, &ks, &kl)
        if i < 0:
            return NOT_READ
        bit = 0
        if same(p, ks, kl, b"topic"):
            bit = 1
        elif same(p, ks, kl, b"subject"):
            bit = 2
        elif same(p, ks, kl, b"data"):
            bit = 4
        if bit == 0:
            i = skip_value(p, i, n, 1)
        elif seen & bit:
            return NOT_READ
        else:
            seen |= bit
            if bit == 1:
                i = read_channel(p, i, n, expect, expect_n)
            elif bit == 2:
                i = read_string(p, i, n, &vs, &vl)
            else:
                i = kucoin_data(p, i, n, trade, out)
        if i < 0:
            return NOT_READ
        i = next_member(p, i, n, &more)
    if (seen | 2) != 7 or end_of_root(p, i, n) < 0:  # "subject" is optional
        return NOT_READ
    out.has_exch = 1
    return TRADE if trade else QUOTE


cdef int kucoin_level1(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    """``/spotMarket/level1``: ``asks``/``bids`` ``[price, size]`` and ``timestamp`` (ms)."""
    return kucoin_frame(p, n, expect, expect_n, 0, out)


cdef int kucoin_match(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    """``/market/match``: ``price``, ``size``, ``side``, ``tradeId`` and ``time`` (ns, a string)."""
    return kucoin_frame(p, n, expect, expect_n, 1, out)
