# MEXC protobuf push codec (included by fastdecode.pyx): one PushDataV3ApiWrapper frame with one
# book ticker (body 315 publicAggreBookTicker or 305 publicBookTicker) or exactly one deal
# (body 314 publicAggreDeals) -> QUOTE / TRADE.
#
# Why a wire-format walker of our own: the Python decoder (upb parse, then float() on the decimal
# texts, see ticktape.exchanges.mexc._decode_slow) is the definition. This reads only the frames
# on which upb's answer is unambiguous and equal to ours, and refuses the rest:
#
# * the first byte is 0x0a (channel, field 1): the Python decoder sends anything else to JSON;
# * wrapper fields: 1 channel, 3 symbol, 4 symbolId (strings), 5 createTime, 6 sendTime
#   (varints), and exactly one body among 315 / 305 / 314, each at most once (repeats are
#   last-wins for scalars and merges for messages in protobuf: refused), in any order; any other
#   field number or wire type (which upb would skip as unknown) is refused;
# * body fields as declared in ticktape.exchanges.mexc_proto, each at most once; book bodies need
#   all four decimals, deals exactly one item with price, quantity and tradeType 1 or 2;
# * strings: bytes 0x20..0x7e only (a subset of the UTF-8 upb checks for proto3 strings);
# * varints: at most 10 bytes, the 10th at most 1 (the value fits 64 bits: upb would drop the
#   extra bits); non-minimal encodings are read as upb reads them (same value); tags and lengths
#   at most 5 bytes, as upb reads them (a longer one is "wire format corrupt" to upb), tags
#   equal to one we expect, lengths within the enclosing message;
# * decimals through parse_decimal (strict, exactly float()'s value); sendTime <= MAX_MS.

cdef enum:
    _WT_VARINT = 0
    _WT_LEN = 2
    _TAG_CHANNEL = (1 << 3) | _WT_LEN
    _TAG_SYMBOL = (3 << 3) | _WT_LEN
    _TAG_SYMBOL_ID = (4 << 3) | _WT_LEN
    _TAG_CREATE_TIME = (5 << 3) | _WT_VARINT
    _TAG_SEND_TIME = (6 << 3) | _WT_VARINT
    _TAG_BOOK_TICKER = (305 << 3) | _WT_LEN
    _TAG_AGGRE_DEALS = (314 << 3) | _WT_LEN
    _TAG_AGGRE_BOOK_TICKER = (315 << 3) | _WT_LEN
    # fields 1..6 of the bodies and of a deal item, by wire type
    _TAG_1_LEN = (1 << 3) | _WT_LEN
    _TAG_2_LEN = (2 << 3) | _WT_LEN
    _TAG_3_LEN = (3 << 3) | _WT_LEN
    _TAG_4_LEN = (4 << 3) | _WT_LEN
    _TAG_5_LEN = (5 << 3) | _WT_LEN
    _TAG_3_VARINT = (3 << 3) | _WT_VARINT
    _TAG_4_VARINT = (4 << 3) | _WT_VARINT
    _TAG_6_VARINT = (6 << 3) | _WT_VARINT


cdef inline int _pb_varint(const unsigned char* p, Py_ssize_t end, Py_ssize_t* pos,
                           unsigned long long* out) noexcept nogil:
    """A varint of at most 10 bytes whose value fits 64 bits: 1, the value, ``pos`` past it."""
    cdef Py_ssize_t i = pos[0]
    cdef unsigned long long v = 0
    cdef int shift = 0
    cdef unsigned char b
    while True:
        if i >= end:
            return 0
        b = p[i]
        i += 1
        if shift == 63:  # the 10th byte: only bit 63 is left, and no continuation
            if b > 1:
                return 0
            v |= (<unsigned long long>b) << 63
            break
        v |= (<unsigned long long>(b & 0x7F)) << shift
        if b < 0x80:
            break
        shift += 7
    pos[0] = i
    out[0] = v
    return 1


cdef inline int _pb_short(const unsigned char* p, Py_ssize_t end, Py_ssize_t* pos,
                          unsigned long long* out) noexcept nogil:
    """A tag or a length: a varint of at most 5 bytes, as upb reads them (callers compare
    tags with the exact tags they take, and lengths with the bytes left)."""
    cdef Py_ssize_t i = pos[0]
    cdef unsigned long long v = 0
    cdef int shift = 0
    cdef unsigned char b
    while True:
        if i >= end or shift > 28:
            return 0
        b = p[i]
        i += 1
        v |= (<unsigned long long>(b & 0x7F)) << shift
        if b < 0x80:
            break
        shift += 7
    pos[0] = i
    out[0] = v
    return 1


cdef inline int _pb_text(const unsigned char* p, Py_ssize_t end, Py_ssize_t* pos,
                         Py_ssize_t* start, Py_ssize_t* length) noexcept nogil:
    """A length-delimited string within ``end``, every byte printable ASCII (0x20..0x7e)."""
    cdef unsigned long long n
    cdef Py_ssize_t i, s
    if not _pb_short(p, end, pos, &n):
        return 0
    s = pos[0]
    if n > <unsigned long long>(end - s):
        return 0
    for i in range(s, s + <Py_ssize_t>n):
        if p[i] < 0x20 or p[i] > 0x7E:
            return 0
    start[0] = s
    length[0] = <Py_ssize_t>n
    pos[0] = s + <Py_ssize_t>n
    return 1


cdef inline int _pb_decimal(const unsigned char* p, Py_ssize_t end, Py_ssize_t* pos,
                            double* out) noexcept nogil:
    """A length-delimited string that ``parse_decimal`` accepts (hence ASCII digits and '.')."""
    cdef unsigned long long n
    cdef Py_ssize_t s
    if not _pb_short(p, end, pos, &n):
        return 0
    s = pos[0]
    if n > <unsigned long long>(end - s):
        return 0
    if not parse_decimal(p + s, <Py_ssize_t>n, out):
        return 0
    pos[0] = s + <Py_ssize_t>n
    return 1


cdef inline int _pb_message(const unsigned char* p, Py_ssize_t end, Py_ssize_t* pos,
                            Py_ssize_t* sub_end) noexcept nogil:
    """A length-delimited sub-message within ``end``: ``pos`` at its start, ``sub_end`` its end."""
    cdef unsigned long long n
    if not _pb_short(p, end, pos, &n):
        return 0
    if n > <unsigned long long>(end - pos[0]):
        return 0
    sub_end[0] = pos[0] + <Py_ssize_t>n
    return 1


cdef inline int _mexc_book(const unsigned char* p, Py_ssize_t pos, Py_ssize_t end, bint aggre,
                           Out* out) noexcept nogil:
    """A book-ticker body: the four decimals once each; 315 may also carry version (5, string)
    and lastOrderCreateTime (6, varint), at most once each."""
    cdef unsigned long long tag, v
    cdef Py_ssize_t s, ln
    cdef int seen = 0  # bit k: field k seen
    while pos < end:
        if not _pb_short(p, end, &pos, &tag):
            return 0
        if tag == _TAG_1_LEN:
            if seen & 2 or not _pb_decimal(p, end, &pos, &out.f0):
                return 0
            seen |= 2
        elif tag == _TAG_2_LEN:
            if seen & 4 or not _pb_decimal(p, end, &pos, &out.f1):
                return 0
            seen |= 4
        elif tag == _TAG_3_LEN:
            if seen & 8 or not _pb_decimal(p, end, &pos, &out.f2):
                return 0
            seen |= 8
        elif tag == _TAG_4_LEN:
            if seen & 16 or not _pb_decimal(p, end, &pos, &out.f3):
                return 0
            seen |= 16
        elif aggre and tag == _TAG_5_LEN:
            if seen & 32 or not _pb_text(p, end, &pos, &s, &ln):
                return 0
            seen |= 32
        elif aggre and tag == _TAG_6_VARINT:
            if seen & 64 or not _pb_varint(p, end, &pos, &v):
                return 0
            seen |= 64
        else:
            return 0
    if pos != end or (seen & 30) != 30:
        return 0
    return QUOTE


cdef inline int _mexc_deal(const unsigned char* p, Py_ssize_t pos, Py_ssize_t end,
                           Out* out) noexcept nogil:
    """One deal item: price (1), quantity (2), tradeType (3: 1 or 2) once each; time (4, varint)
    and tradeId (5, string) at most once each."""
    cdef unsigned long long tag, v
    cdef Py_ssize_t s, ln
    cdef int seen = 0
    while pos < end:
        if not _pb_short(p, end, &pos, &tag):
            return 0
        if tag == _TAG_1_LEN:
            if seen & 2 or not _pb_decimal(p, end, &pos, &out.f0):
                return 0
            seen |= 2
        elif tag == _TAG_2_LEN:
            if seen & 4 or not _pb_decimal(p, end, &pos, &out.f1):
                return 0
            seen |= 4
        elif tag == _TAG_3_VARINT:
            if seen & 8 or not _pb_varint(p, end, &pos, &v):
                return 0
            if v == 1:
                out.side = 0
            elif v == 2:
                out.side = 1
            else:
                return 0
            seen |= 8
        elif tag == _TAG_4_VARINT:
            if seen & 16 or not _pb_varint(p, end, &pos, &v):
                return 0
            seen |= 16
        elif tag == _TAG_5_LEN:
            if seen & 32 or not _pb_text(p, end, &pos, &s, &ln):
                return 0
            out.tid_start = s
            out.tid_len = ln
            seen |= 32
        else:
            return 0
    if pos != end or (seen & 14) != 14:
        return 0
    if not seen & 32:
        out.tid_start = 0
        out.tid_len = 0
    out.f2 = 0.0  # not a trade's: defined anyway
    out.f3 = 0.0
    return TRADE


cdef inline int _mexc_deals(const unsigned char* p, Py_ssize_t pos, Py_ssize_t end,
                            Out* out) noexcept nogil:
    """A deals body: exactly one item (1) and at most one eventType (2, string)."""
    cdef unsigned long long tag
    cdef Py_ssize_t s, ln, item_start = 0, item_end = 0
    cdef int seen = 0
    while pos < end:
        if not _pb_short(p, end, &pos, &tag):
            return 0
        if tag == _TAG_1_LEN:
            if seen & 2 or not _pb_message(p, end, &pos, &item_end):
                return 0
            item_start = pos
            pos = item_end
            seen |= 2
        elif tag == _TAG_2_LEN:
            if seen & 4 or not _pb_text(p, end, &pos, &s, &ln):
                return 0
            seen |= 4
        else:
            return 0
    if pos != end or not seen & 2:
        return 0
    return _mexc_deal(p, item_start, item_end, out)


cdef int mexc_push(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    cdef Py_ssize_t pos = 0, s, ln, sym_start = 0, sym_len = 0
    cdef Py_ssize_t body_start = 0, body_end = 0
    cdef unsigned long long tag, v, send_ms = 0
    cdef unsigned long long body = 0
    cdef int seen = 0  # bit k: wrapper field k seen (bit 7: a body)
    cdef Py_ssize_t i
    if n < 1 or p[0] != 0x0A or expect_n <= 0:
        return NOT_READ
    while pos < n:
        if not _pb_short(p, n, &pos, &tag):
            return NOT_READ
        if tag == _TAG_CHANNEL:
            if seen & 2 or not _pb_text(p, n, &pos, &s, &ln):
                return NOT_READ
            seen |= 2
        elif tag == _TAG_SYMBOL:
            if seen & 8 or not _pb_text(p, n, &pos, &sym_start, &sym_len):
                return NOT_READ
            seen |= 8
        elif tag == _TAG_SYMBOL_ID:
            if seen & 16 or not _pb_text(p, n, &pos, &s, &ln):
                return NOT_READ
            seen |= 16
        elif tag == _TAG_CREATE_TIME:
            if seen & 32 or not _pb_varint(p, n, &pos, &v):
                return NOT_READ
            seen |= 32
        elif tag == _TAG_SEND_TIME:
            if seen & 64 or not _pb_varint(p, n, &pos, &send_ms):
                return NOT_READ
            if send_ms > MAX_MS:
                return NOT_READ
            seen |= 64
        elif tag == _TAG_AGGRE_BOOK_TICKER or tag == _TAG_BOOK_TICKER or tag == _TAG_AGGRE_DEALS:
            if seen & 128 or not _pb_message(p, n, &pos, &body_end):
                return NOT_READ
            body = tag
            body_start = pos
            pos = body_end
            seen |= 128
        else:
            return NOT_READ
    if pos != n or not seen & 128:
        return NOT_READ
    if sym_len != expect_n:
        return NOT_READ
    for i in range(sym_len):
        if p[sym_start + i] != expect[i]:
            return NOT_READ
    if send_ms:
        out.exch_ns = <int64_t>send_ms * 1_000_000
        out.has_exch = 1
    else:
        out.exch_ns = 0
        out.has_exch = 0
    if body == _TAG_AGGRE_DEALS:
        return _mexc_deals(p, body_start, body_end, out)
    return _mexc_book(p, body_start, body_end, body == _TAG_AGGRE_BOOK_TICKER, out)
