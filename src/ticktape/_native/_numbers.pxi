# Number parsing shared by every codec (included by fastdecode.pyx).
#
# Why exact: a decimal text with at most 15-16 significant digits and at most 22 fraction digits
# is m / 10**k with m < 2**53 and 10**k exact in a double, so one IEEE division gives the
# correctly rounded value: the same double as Python's float() and msgspec's parser.
# Anything else (more digits, exponents, signs, leading zeros, "nan") is refused, and the row
# goes to the Python decoder.

cdef double[23] POW10
POW10[0] = 1.0
for _k in range(1, 23):
    POW10[_k] = POW10[_k - 1] * 10.0

cdef enum:
    MAX_EXACT = 9007199254740992  # 2**53
    MAX_MS = 9_000_000_000_000  # ms timestamps we multiply by 10**6 (fits int64 with room)


cdef inline int parse_decimal(const unsigned char* p, Py_ssize_t n, double* out) noexcept nogil:
    """Strict ``[0-9]+(\\.[0-9]+)?`` without a leading zero (but ``0`` / ``0.x``): 1 and the
    correctly rounded double in ``out``; 0 (refuse) otherwise."""
    cdef Py_ssize_t i = 0, dot = -1, end = n
    cdef unsigned long long m = 0
    cdef int k, digits = 0
    cdef unsigned char c
    if n <= 0 or n > 64:
        return 0
    if p[0] == 48 and n > 1 and p[1] != 46:  # '0' followed by something other than '.'
        return 0
    for i in range(n):
        c = p[i]
        if c == 46:  # '.'
            if dot >= 0 or i == 0 or i == n - 1:
                return 0
            dot = i
        elif c < 48 or c > 57:
            return 0
    if dot >= 0:  # trailing zeros of the fraction change nothing: drop them
        while end > dot + 1 and p[end - 1] == 48:
            end -= 1
        if end == dot + 1:
            end = dot  # "12.000" -> "12"
    for i in range(end):
        c = p[i]
        if c == 46:
            continue
        if m == 0 and c == 48:
            continue  # leading zeros of "0.000123" are not significant
        digits += 1
        if digits > 16:
            return 0
        m = m * 10 + (c - 48)
    if m > MAX_EXACT:
        return 0
    k = 0 if dot < 0 or end <= dot else <int>(end - dot - 1)
    if k > 22:
        return 0
    out[0] = <double>m / POW10[k] if k else <double>m
    return 1


cdef inline int parse_uint(const unsigned char* p, Py_ssize_t n, long long limit, long long* out) noexcept nogil:
    """Strict ``[0-9]+`` without a leading zero (but ``0``), at most ``limit``: 1 and the value;
    0 (refuse) otherwise."""
    cdef Py_ssize_t i
    cdef long long v = 0
    if n <= 0 or n > 18:
        return 0
    if p[0] == 48 and n > 1:
        return 0
    for i in range(n):
        if p[i] < 48 or p[i] > 57:
            return 0
        v = v * 10 + (p[i] - 48)
    if v > limit:
        return 0
    out[0] = v
    return 1
