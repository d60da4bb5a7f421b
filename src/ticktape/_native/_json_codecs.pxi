# JSON codecs for Binance, Bybit and KuCoin (included by fastdecode.pyx).
#
# Each codec reads one canonical frame shape and refuses (NOT_READ) everything else; the Python
# decoders (ticktape.exchanges.binance / bybit / kucoin) stay the definition of every result.
# They parse with msgspec typed Structs (strict=False): unknown keys are skipped but must be valid
# JSON, known keys are type-checked. So here:
#
# * The whole payload must be one strict JSON object (then only whitespace). Strings hold only
#   bytes 0x20..0x7E and no backslash at all (an escape could spell a known key, or a value we
#   would read differently); nesting deeper than TT_MAX_DEPTH (32) is refused.
# * Every key the Python Struct knows is either read in the exact form below or refused, even
#   where Python would ignore its value (e.g. "E" in a bookTicker): a known key is type-checked
#   by msgspec, so skipping it could accept a frame Python rejects. A known key twice: refused.
# * Prices and sizes are JSON strings holding a strict decimal (read_decimal: exactly what
#   parse_decimal accepts, the same double as Python's float()); integers are plain JSON
#   unsigned integers (read_uint: exactly scan_number then parse_uint). null for a known key is
#   refused even where Python accepts it.
#
# Every helper returns the index just past what it read, or -1 (refuse); every helper given -1
# for an index returns -1, so a fixed sequence of reads can be written as a chain, checked once.
#
# How it is fast (0.2-0.3 ns per byte of the frames the exchanges send, from ~1 ns; each step
# measured, see the commit that made it):
# * Binance and Bybit frames are first matched against the layout the exchange writes
#   (binance_canonical, bybit_canonical): literal runs such as ``,"data":{"u":`` are compared
#   with one constant-length memcmp, the values in between read by the same helpers as the
#   general reader's. Whatever does not match (other key orders, whitespace, a key we read coming
#   later...) goes to the general reader (binance_frame, bybit_frame), which decides. So the
#   canonical reader only ever accepts what the general one accepts, with the same values (the
#   differential tests compare the two directly), and writes ``out`` only when it accepts.
#   KuCoin's key order varies between captures: it has only the general reader.
# * The byte-level helpers are C (the block below) marked always_inline: this translation unit
#   is so large (memoryview support code) that GCC at -O2 stops inlining Cython ``inline``
#   functions ("inline-unit-growth limit"), which left every scan a call and every memcmp of a
#   literal a libc call.
# * A decimal is validated and converted in the one pass that finds its closing quote; with at
#   most 15 digits (prices and sizes) every limit of parse_decimal holds, so no digit needs more
#   than a multiply-add (longer ones: the exact general case, tt_read_long_decimal).
# * Strings are scanned a byte at a time (four per bounds test) through a table of the bytes
#   they may hold. Tried and slower here: 8 bytes per step (SWAR) for strings, keys and the
#   channel compared before being scanned; these strings are short, and a word scan makes the
#   next index wait for the loaded data where a byte loop's exit is a predicted branch.
# * Separators without whitespace around them (what the exchanges send) take one test.

from libc.string cimport memcmp

cdef long long MAX_TRADE_ID = 999_999_999_999_999_999  # 18 digits: parse_uint's own bound
cdef unsigned long long MAX_NS = 4_611_686_018_427_387_904  # 2**62: KuCoin "time" (ns)

cdef enum:
    C_LBRACKET = 91
    C_RBRACKET = 93


# ---- the scanner (C) ----------------------------------------------------------------------------

cdef extern from * nogil:
    """
    #include <stdint.h>
    #include <string.h>

    #if defined(__GNUC__) || defined(__clang__)
    #define TT_INLINE static inline __attribute__((always_inline))
    #else
    #define TT_INLINE static inline
    #endif

    #define TT_MAX_DEPTH 32
    #define TT_MAX_EXACT ((uint64_t)1 << 53)

    /* 1 for the bytes a string may hold: 0x20..0x7E except the quote and the backslash. */
    static const unsigned char tt_plain[256] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x0_ */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x1_ */
        1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x2_: not " */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x3_ */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x4_ */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,  /* 0x5_: not \\ */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x6_ */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,  /* 0x7_: not DEL */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x8_ .. 0xF_: none */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };

    /* 10**k, k <= 22: every one exact in a double (as _numbers.pxi's POW10). */
    static const double tt_pow10[23] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    };

    TT_INLINE int tt_is_digit(unsigned char c) {
        return (unsigned char)(c - '0') < 10;
    }

    /* The first index >= i that is not JSON whitespace (n if none). */
    TT_INLINE Py_ssize_t tt_skip_ws(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) {
        if (i < 0) {
            return -1;
        }
        while (i < n) {
            unsigned char c = p[i];
            if (c > ' ' || (c != ' ' && c != '\\t' && c != '\\n' && c != '\\r')) {
                return i;
            }
            i++;
        }
        return n;
    }

    /* The bytes text[:length] at i: the index after them. */
    TT_INLINE Py_ssize_t tt_lit(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                const char* text, Py_ssize_t length) {
        if (i < 0 || n - i < length || memcmp(p + i, text, (size_t)length) != 0) {
            return -1;
        }
        return i + length;
    }

    /* p[start:start + length] equals text[:text_n] (lengths first). */
    TT_INLINE int tt_same(const unsigned char* p, Py_ssize_t start, Py_ssize_t length,
                          const char* text, Py_ssize_t text_n) {
        return length == text_n && memcmp(p + start, text, (size_t)text_n) == 0;
    }

    /* The first index >= i of a byte that ends a plain string (its quote) or may not be in one
       (backslash, < 0x20, > 0x7E); n if none. Four bytes per bounds test. */
    TT_INLINE Py_ssize_t tt_string_stop(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) {
        while (n - i >= 4) {
            if (!tt_plain[p[i]]) {
                return i;
            }
            if (!tt_plain[p[i + 1]]) {
                return i + 1;
            }
            if (!tt_plain[p[i + 2]]) {
                return i + 2;
            }
            if (!tt_plain[p[i + 3]]) {
                return i + 3;
            }
            i += 4;
        }
        while (i < n && tt_plain[p[i]]) {
            i++;
        }
        return i;
    }

    /* A string at i (its opening quote): printable ASCII only, no escapes. */
    TT_INLINE Py_ssize_t tt_scan_string(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) {
        if (i < 0 || i >= n || p[i] != '"') {
            return -1;
        }
        i = tt_string_stop(p, i + 1, n);
        return (i < n && p[i] == '"') ? i + 1 : -1;
    }

    /* A string at i; its content is p[*start:*start + *length]. */
    TT_INLINE Py_ssize_t tt_read_string(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                        Py_ssize_t* start, Py_ssize_t* length) {
        Py_ssize_t end = tt_scan_string(p, i, n);
        if (end < 0) {
            return -1;
        }
        *start = i + 1;
        *length = end - i - 2;
        return end;
    }

    /* The first index >= i that is not an ASCII digit (n if none). 8 bytes per step while
       they are all digits (a byte b is one iff b & 0xF0 == 0x30 and (b + 6) & 0xF0 == 0x30; a
       carry out of b + 6 only comes from a byte >= 0xFA, which already fails the first test). */
    TT_INLINE Py_ssize_t tt_skip_digits(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) {
        const uint64_t high = 0xF0F0F0F0F0F0F0F0ULL, zeros = 0x3030303030303030ULL;
        uint64_t w;
        while (n - i >= 8) {
            memcpy(&w, p + i, 8);
            if ((w & high) != zeros || ((w + 0x0606060606060606ULL) & high) != zeros) {
                break;
            }
            i += 8;
        }
        while (i < n && tt_is_digit(p[i])) {
            i++;
        }
        return i;
    }

    /* A number at i in the strict JSON grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
    TT_INLINE Py_ssize_t tt_scan_number(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) {
        if (i < 0) {
            return -1;
        }
        if (i < n && p[i] == '-') {
            i++;
        }
        if (i >= n || !tt_is_digit(p[i])) {
            return -1;
        }
        if (p[i++] != '0') {
            i = tt_skip_digits(p, i, n);
        }
        if (i < n && p[i] == '.') {
            i++;
            if (i >= n || !tt_is_digit(p[i])) {
                return -1;
            }
            i = tt_skip_digits(p, i, n);
        }
        if (i < n && (p[i] == 'e' || p[i] == 'E')) {
            i++;
            if (i < n && (p[i] == '+' || p[i] == '-')) {
                i++;
            }
            if (i >= n || !tt_is_digit(p[i])) {
                return -1;
            }
            while (i < n && tt_is_digit(p[i])) {
                i++;
            }
        }
        return i;
    }

    static Py_ssize_t tt_skip_container(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                        int depth);

    /* Any JSON value at i (validated, not read); depth: the containers around it. */
    TT_INLINE Py_ssize_t tt_skip_value(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                       int depth) {
        unsigned char c;
        if (i < 0 || i >= n) {
            return -1;
        }
        c = p[i];
        if (c == '"') {
            return tt_scan_string(p, i, n);
        }
        if (tt_is_digit(c) || c == '-') {
            return tt_scan_number(p, i, n);
        }
        if (c == '{' || c == '[') {
            return tt_skip_container(p, i, n, depth);
        }
        if (c == 't') {
            return tt_lit(p, i, n, "true", 4);
        }
        if (c == 'f') {
            return tt_lit(p, i, n, "false", 5);
        }
        if (c == 'n') {
            return tt_lit(p, i, n, "null", 4);
        }
        return -1;
    }

    /* The object or array at i (validated, not read). */
    static Py_ssize_t tt_skip_container(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                        int depth) {
        unsigned char open = p[i];
        unsigned char close = open == '{' ? '}' : ']';
        if (depth >= TT_MAX_DEPTH) {
            return -1;
        }
        i = tt_skip_ws(p, i + 1, n);
        if (i < n && p[i] == close) {
            return i + 1;
        }
        for (;;) {
            if (open == '{') {
                i = tt_scan_string(p, i, n);
                if (i < 0) {
                    return -1;
                }
                i = tt_skip_ws(p, i, n);
                if (i >= n || p[i] != ':') {
                    return -1;
                }
                i = tt_skip_ws(p, i + 1, n);
            }
            i = tt_skip_value(p, i, n, depth + 1);
            if (i < 0) {
                return -1;
            }
            i = tt_skip_ws(p, i, n);
            if (i >= n) {
                return -1;
            }
            if (p[i] == close) {
                return i + 1;
            }
            if (p[i] != ',') {
                return -1;
            }
            i = tt_skip_ws(p, i + 1, n);
        }
    }

    /* '{' at i followed by a first key: the index of that key's quote. An empty object is
       refused (every object read here has required keys). */
    TT_INLINE Py_ssize_t tt_open_object(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) {
        if (i < 0 || i >= n || p[i] != '{') {
            return -1;
        }
        i = tt_skip_ws(p, i + 1, n);
        if (i >= n || p[i] != '"') {
            return -1;
        }
        return i;
    }

    /* "key" ':' at i: the index of the value. A one-letter key right before its colon (the
       data keys of Binance and Bybit) is read without a loop. */
    TT_INLINE Py_ssize_t tt_read_key(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                     Py_ssize_t* start, Py_ssize_t* length) {
        if (i < 0) {
            return -1;
        }
        if (n - i > 4 && p[i] == '"' && p[i + 2] == '"' && p[i + 3] == ':') {
            if (!tt_plain[p[i + 1]]) {
                return -1;
            }
            *start = i + 1;
            *length = 1;
            return p[i + 4] > ' ' ? i + 4 : tt_skip_ws(p, i + 4, n);
        }
        i = tt_read_string(p, i, n, start, length);
        if (i < 0) {
            return -1;
        }
        if (n - i > 1 && p[i] == ':' && p[i + 1] > ' ') {  /* no whitespace around the colon */
            return i + 1;
        }
        i = tt_skip_ws(p, i, n);
        if (i >= n || p[i] != ':') {
            return -1;
        }
        return tt_skip_ws(p, i + 1, n);
    }

    /* After a member's value: ',' (*more = 1, the index of the next key) or '}' (*more = 0,
       the index after it). */
    TT_INLINE Py_ssize_t tt_next_member(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                        int* more) {
        if (i < 0) {
            return -1;
        }
        if (n - i > 1 && p[i] == ',' && p[i + 1] == '"') {  /* no whitespace around the comma */
            *more = 1;
            return i + 1;
        }
        i = tt_skip_ws(p, i, n);
        if (i >= n) {
            return -1;
        }
        if (p[i] == '}') {
            *more = 0;
            return i + 1;
        }
        if (p[i] != ',') {
            return -1;
        }
        *more = 1;
        i = tt_skip_ws(p, i + 1, n);
        if (i >= n || p[i] != '"') {
            return -1;
        }
        return i;
    }

    /* Only whitespace may follow the root object. */
    TT_INLINE Py_ssize_t tt_end_of_root(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) {
        if (i < 0) {
            return -1;
        }
        return tt_skip_ws(p, i, n) == n ? i : -1;
    }

    /* A string equal to expect (the route's channel name). */
    TT_INLINE Py_ssize_t tt_read_channel(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                         const unsigned char* expect, Py_ssize_t expect_n) {
        Py_ssize_t start, length;
        i = tt_read_string(p, i, n, &start, &length);
        if (i < 0 || length != expect_n || memcmp(p + start, expect, (size_t)expect_n) != 0) {
            return -1;
        }
        return i;
    }

    /* A JSON string holding a strict decimal (a JSON number is refused): exactly
       parse_decimal of the string's content, the same refusals and the same double.

       parse_decimal: [0-9]+(.[0-9]+)?, no leading zero but "0" / "0.x", at most 64 bytes; the
       fraction's trailing zeros dropped, then at most 16 significant digits (from the first
       nonzero one), a mantissa m <= 2**53 and at most k = 22 fraction digits: m / 10**k.

       This one for any length, in one pass: every digit goes into m (leading zeros leave it 0;
       sig counts the digits since it became nonzero), and m_nz, sig_nz and last keep m, sig
       and the position as of the last digit that is not a trailing zero of the fraction (every
       digit of the whole part, a nonzero one of the fraction). m may wrap with 20 or more
       significant digits, but then sig_nz > 16 (refused) or the wrap came after the last
       nonzero digit (m_nz was kept before it). Any byte but a digit or the one dot before the
       closing quote refuses the string: the string scan or parse_decimal would. */
    static Py_ssize_t tt_read_long_decimal(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                           double* value) {
        Py_ssize_t s, j, frac = 0, last = 0, k;
        uint64_t m = 0, m_nz;
        int64_t sig = 0, sig_nz;
        unsigned char d;
        if (i < 0 || i >= n || p[i] != '"') {
            return -1;
        }
        s = j = i + 1;
        if (j >= n) {
            return -1;
        }
        d = (unsigned char)(p[j] - '0');
        if (d == 0) {  /* "0" or "0.<fraction>": no digit may follow a leading zero */
            j++;
        } else if (d < 10) {
            do {
                m = m * 10 + d;
                sig++;
                j++;
                if (j >= n) {
                    return -1;
                }
                d = (unsigned char)(p[j] - '0');
            } while (d < 10);
        } else {
            return -1;
        }
        m_nz = m;
        sig_nz = sig;
        if (j < n && p[j] == '.') {
            frac = last = ++j;
            if (j >= n || !tt_is_digit(p[j])) {
                return -1;
            }
            while (j < n) {
                d = (unsigned char)(p[j] - '0');
                if (d >= 10) {
                    break;
                }
                m = m * 10 + d;
                sig += m != 0;
                j++;
                if (d != 0) {
                    m_nz = m;
                    sig_nz = sig;
                    last = j;
                }
            }
        }
        if (j >= n || p[j] != '"') {
            return -1;
        }
        k = last - frac;
        if (j - s > 64 || sig_nz > 16 || m_nz > TT_MAX_EXACT || k > 22) {
            return -1;
        }
        *value = k ? (double)(int64_t)m_nz / tt_pow10[k] : (double)(int64_t)m_nz;
        return j + 1;
    }

    /* The same for the decimals prices and sizes are written in: at most 15 digits. Then
       every limit of parse_decimal holds (m < 10**15 < 2**53, k <= 15), so the fraction's
       trailing zeros need not be dropped: m * 10**t / 10**(k + t) is the same rational as
       m / 10**k, both exact operands, so one correctly rounded division gives the same double.
       More digits: tt_read_long_decimal decides. */
    TT_INLINE Py_ssize_t tt_read_decimal(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                         double* value) {
        Py_ssize_t s, j, dot, frac = 0;
        uint64_t m = 0;
        unsigned char d;
        if (i < 0 || i >= n || p[i] != '"') {
            return -1;
        }
        s = j = i + 1;
        if (j >= n) {
            return -1;
        }
        d = (unsigned char)(p[j] - '0');
        if (d == 0) {  /* "0" or "0.<fraction>": no digit may follow a leading zero */
            j++;
        } else if (d < 10) {
            do {
                m = m * 10 + d;
                j++;
                if (j >= n) {
                    return -1;
                }
                d = (unsigned char)(p[j] - '0');
            } while (d < 10);
        } else {
            return -1;
        }
        if (j < n && p[j] == '.') {
            dot = ++j;
            if (j >= n || !tt_is_digit(p[j])) {
                return -1;
            }
            do {
                m = m * 10 + (unsigned char)(p[j] - '0');
                j++;
            } while (j < n && tt_is_digit(p[j]));
            frac = j - dot;
        }
        if (j >= n || p[j] != '"') {
            return -1;
        }
        if (j - s - (frac > 0) > 15) {
            return tt_read_long_decimal(p, i, n, value);
        }
        *value = frac ? (double)(int64_t)m / tt_pow10[frac] : (double)(int64_t)m;
        return j + 1;
    }

    /* A JSON unsigned integer (no fraction, exponent or sign) <= limit, in one pass: exactly
       scan_number then parse_uint ("0" or [1-9][0-9]* of at most 18 digits; a dot or an
       exponent right after it makes scan_number read a number parse_uint refuses), returning
       the index scan_number returns. */
    TT_INLINE Py_ssize_t tt_read_uint(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                      long long limit, long long* value) {
        Py_ssize_t start = i;
        uint64_t v;
        if (i < 0 || i >= n || !tt_is_digit(p[i])) {
            return -1;
        }
        v = (uint64_t)(p[i++] - '0');
        if (v != 0) {
            while (i < n && tt_is_digit(p[i])) {
                v = v * 10 + (uint64_t)(p[i++] - '0');  /* wraps only past 19 digits: refused */
            }
        }
        if (i - start > 18 || (i < n && (p[i] == '.' || p[i] == 'e' || p[i] == 'E'))) {
            return -1;
        }
        if (v > (uint64_t)limit) {
            return -1;
        }
        *value = (long long)v;
        return i;
    }

    /* A millisecond timestamp (a JSON unsigned integer <= limit), as nanoseconds. */
    TT_INLINE Py_ssize_t tt_read_ms(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                    long long limit, int64_t* ns) {
        long long ms;
        i = tt_read_uint(p, i, n, limit, &ms);
        if (i >= 0) {
            *ns = ms * 1000000;
        }
        return i;
    }

    /* A JSON string of decimal digits (no leading zero, at most 19) below limit: any byte
       but a digit before the closing quote refuses, as the string scan would. */
    TT_INLINE Py_ssize_t tt_read_digit_text(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                            uint64_t limit, int64_t* value) {
        Py_ssize_t s, j;
        uint64_t v = 0;
        unsigned char d;
        if (i < 0 || i >= n || p[i] != '"') {
            return -1;
        }
        s = j = i + 1;
        while (j < n) {
            d = (unsigned char)(p[j] - '0');
            if (d >= 10) {
                break;
            }
            v = v * 10 + d;  /* 19 digits < 2**64: wraps only past them (refused) */
            j++;
        }
        if (j >= n || p[j] != '"' || j == s || j - s > 19 || (p[s] == '0' && j - s > 1)
                || v >= limit) {
            return -1;
        }
        *value = (int64_t)v;
        return j + 1;
    }

    /* ["<dec>","<dec>"] at i: exactly two decimal strings. */
    TT_INLINE Py_ssize_t tt_read_pair(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                      double* first, double* second) {
        if (i < 0 || i >= n || p[i] != '[') {
            return -1;
        }
        i = tt_read_decimal(p, tt_skip_ws(p, i + 1, n), n, first);
        if (i < 0) {
            return -1;
        }
        i = tt_skip_ws(p, i, n);
        if (i >= n || p[i] != ',') {
            return -1;
        }
        i = tt_read_decimal(p, tt_skip_ws(p, i + 1, n), n, second);
        if (i < 0) {
            return -1;
        }
        i = tt_skip_ws(p, i, n);
        if (i >= n || p[i] != ']') {
            return -1;
        }
        return i + 1;
    }

    /* [["<dec>","<dec>"]] at i: exactly one level. */
    TT_INLINE Py_ssize_t tt_read_one_level(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                           double* price, double* size) {
        if (i < 0 || i >= n || p[i] != '[') {
            return -1;
        }
        i = tt_read_pair(p, tt_skip_ws(p, i + 1, n), n, price, size);
        if (i < 0) {
            return -1;
        }
        i = tt_skip_ws(p, i, n);
        if (i >= n || p[i] != ']') {
            return -1;
        }
        return i + 1;
    }
    """
    Py_ssize_t skip_ws "tt_skip_ws" (const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept
    Py_ssize_t lit "tt_lit" (const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                             const char* text, Py_ssize_t length) noexcept
    bint same "tt_same" (const unsigned char* p, Py_ssize_t start, Py_ssize_t length,
                         const char* text, Py_ssize_t text_n) noexcept
    Py_ssize_t scan_string "tt_scan_string" (const unsigned char* p, Py_ssize_t i,
                                             Py_ssize_t n) noexcept
    Py_ssize_t read_string "tt_read_string" (const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                             Py_ssize_t* start, Py_ssize_t* length) noexcept
    Py_ssize_t scan_number "tt_scan_number" (const unsigned char* p, Py_ssize_t i,
                                             Py_ssize_t n) noexcept
    Py_ssize_t skip_value "tt_skip_value" (const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                           int depth) noexcept
    Py_ssize_t open_object "tt_open_object" (const unsigned char* p, Py_ssize_t i,
                                             Py_ssize_t n) noexcept
    Py_ssize_t read_key "tt_read_key" (const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                       Py_ssize_t* start, Py_ssize_t* length) noexcept
    Py_ssize_t next_member "tt_next_member" (const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                             int* more) noexcept
    Py_ssize_t end_of_root "tt_end_of_root" (const unsigned char* p, Py_ssize_t i,
                                             Py_ssize_t n) noexcept
    Py_ssize_t read_channel "tt_read_channel" (const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                               const unsigned char* expect,
                                               Py_ssize_t expect_n) noexcept
    Py_ssize_t read_decimal "tt_read_decimal" (const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                               double* value) noexcept
    Py_ssize_t read_uint "tt_read_uint" (const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                         long long limit, long long* value) noexcept
    Py_ssize_t read_ms "tt_read_ms" (const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                     long long limit, int64_t* ns) noexcept
    Py_ssize_t read_digit_text "tt_read_digit_text" (const unsigned char* p, Py_ssize_t i,
                                                     Py_ssize_t n, unsigned long long limit,
                                                     int64_t* value) noexcept
    Py_ssize_t read_pair "tt_read_pair" (const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                         double* first, double* second) noexcept
    Py_ssize_t read_one_level "tt_read_one_level" (const unsigned char* p, Py_ssize_t i,
                                                   Py_ssize_t n, double* price,
                                                   double* size) noexcept


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
                i = read_ms(p, i, n, MAX_MS, &out.exch_ns)
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
                    i = lit(p, i, n, b"true", 4)
                    out.side = 1
                else:
                    i = lit(p, i, n, b"false", 5)
                    out.side = 0
        if i < 0:
            return -1
        i = next_member(p, i, n, &more)
    if i < 0 or (seen & ~BN_S) != (allowed & ~BN_S):  # "s" is optional
        return -1
    return i


cdef int binance_frame(const unsigned char* p, Py_ssize_t n, const unsigned char* expect,
                       Py_ssize_t expect_n, int trade, Out* out) noexcept nogil:
    """Any frame of the shape, in any key order and spacing (the general reader)."""
    cdef int seen = 0, more = 1
    cdef Py_ssize_t ks, kl
    cdef Py_ssize_t i = open_object(p, skip_ws(p, 0, n), n)
    while more:
        if i < 0:
            return NOT_READ
        i = read_key(p, i, n, &ks, &kl)
        if i < 0:
            return NOT_READ
        if same(p, ks, kl, b"stream", 6):
            if seen & 1:
                return NOT_READ
            seen |= 1
            i = read_channel(p, i, n, expect, expect_n)
        elif same(p, ks, kl, b"data", 4):
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


cdef int binance_canonical(const unsigned char* p, Py_ssize_t n, const unsigned char* expect,
                           Py_ssize_t expect_n, int trade, Out* out) noexcept nogil:
    """The frame exactly as Binance writes it (no whitespace, its key order), or NOT_READ.

    The general reader on such a frame: ``stream`` read_channel; in ``data`` the unknown keys
    (``u``; ``e``, ``T``, ``M``) skipped by skip_value, which for the string, number or literal
    they hold is scan_string, scan_number or any literal; ``s`` read_string; the rest read by
    the same helpers as here; every key of the event once and no other key it reads."""
    cdef double f0 = 0, f1 = 0, f2 = 0, f3 = 0
    cdef int64_t exch_ns = 0
    cdef long long value
    cdef Py_ssize_t tid_start = 0, tid_end = 0
    cdef int side = 0
    cdef Py_ssize_t i = read_channel(p, lit(p, 0, n, b'{"stream":', 10), n, expect, expect_n)
    if trade:
        i = scan_string(p, lit(p, i, n, b',"data":{"e":', 13), n)
        i = read_ms(p, lit(p, i, n, b',"E":', 5), n, MAX_MS, &exch_ns)
        i = scan_string(p, lit(p, i, n, b',"s":', 5), n)
        tid_start = lit(p, i, n, b',"t":', 5)
        tid_end = read_uint(p, tid_start, n, MAX_TRADE_ID, &value)
        i = read_decimal(p, lit(p, tid_end, n, b',"p":', 5), n, &f0)
        i = read_decimal(p, lit(p, i, n, b',"q":', 5), n, &f1)
        i = lit(p, scan_number(p, lit(p, i, n, b',"T":', 5), n), n, b',"m":', 5)
        if 0 <= i < n and p[i] == 116:  # t: the buyer was the maker, the taker sold
            side = 1
            i = lit(p, i, n, b"true", 4)
        else:
            i = lit(p, i, n, b"false", 5)
        i = lit(p, skip_value(p, lit(p, i, n, b',"M":', 5), n, 2), n, b"}}", 2)
        if end_of_root(p, i, n) < 0:
            return NOT_READ
        out.f0 = f0
        out.f1 = f1
        out.exch_ns = exch_ns
        out.side = side
        out.tid_start = tid_start
        out.tid_len = tid_end - tid_start
        out.has_exch = 1
        return TRADE
    i = scan_number(p, lit(p, i, n, b',"data":{"u":', 13), n)
    i = scan_string(p, lit(p, i, n, b',"s":', 5), n)
    i = read_decimal(p, lit(p, i, n, b',"b":', 5), n, &f0)
    i = read_decimal(p, lit(p, i, n, b',"B":', 5), n, &f1)
    i = read_decimal(p, lit(p, i, n, b',"a":', 5), n, &f2)
    i = read_decimal(p, lit(p, i, n, b',"A":', 5), n, &f3)
    if end_of_root(p, lit(p, i, n, b"}}", 2), n) < 0:
        return NOT_READ
    out.f0 = f0
    out.f1 = f1
    out.f2 = f2
    out.f3 = f3
    out.has_exch = 0
    return QUOTE


cdef int binance_book(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    """``{"stream":"<sym>@bookTicker","data":{"u":..,"s":..,"b":..,"B":..,"a":..,"A":..}}``."""
    if binance_canonical(p, n, expect, expect_n, 0, out) == QUOTE:
        return QUOTE
    return binance_frame(p, n, expect, expect_n, 0, out)


cdef int binance_trade(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    """``{"stream":"<sym>@trade","data":{"e":"trade","E":..,"s":..,"t":..,"p":..,"q":..,"m":..}}``
    (no ``b``/``a`` order ids: ``a`` is typed ``int | float`` in Python, refused here)."""
    if binance_canonical(p, n, expect, expect_n, 1, out) == TRADE:
        return TRADE
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
                if same(p, vs, vl, b"Buy", 3):
                    out.side = 0
                elif same(p, vs, vl, b"Sell", 4):
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


cdef int bybit_frame(const unsigned char* p, Py_ssize_t n, const unsigned char* expect,
                     Py_ssize_t expect_n, int trade, Out* out) noexcept nogil:
    """Any frame of the shape, in any key order and spacing (the general reader)."""
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
        if same(p, ks, kl, b"topic", 5):
            bit = 1
        elif same(p, ks, kl, b"ts", 2):
            bit = 2
        elif same(p, ks, kl, b"type", 4):
            bit = 4
        elif same(p, ks, kl, b"data", 4):
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
                i = read_ms(p, i, n, MAX_MS, &out.exch_ns)
            elif bit == 4:  # books: only snapshots (a delta depends on the decoder's state)
                i = read_string(p, i, n, &vs, &vl)
                if i >= 0 and not trade and not same(p, vs, vl, b"snapshot", 8):
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



cdef enum:
    BY_ROOT = 0
    BY_BOOK = 1
    BY_TRADE = 2


cdef inline bint bybit_known(const unsigned char* p, Py_ssize_t ks, Py_ssize_t kl,
                             int where) noexcept nogil:
    """Whether the general reader reads this key (``where``: the root, the book's ``data``
    object, the trade item)."""
    cdef unsigned char c
    if where == BY_ROOT:
        return (same(p, ks, kl, b"topic", 5) or same(p, ks, kl, b"ts", 2)
                or same(p, ks, kl, b"type", 4) or same(p, ks, kl, b"data", 4))
    if kl != 1:
        return False
    c = p[ks]
    if where == BY_BOOK:
        return c == 98 or c == 97  # b a
    return c == 105 or c == 112 or c == 118 or c == 83  # i p v S


cdef Py_ssize_t bybit_unknown_members(const unsigned char* p, Py_ssize_t i, Py_ssize_t n,
                                      int where, int depth) noexcept nogil:
    """After a member's value: members the general reader skips (skip_value at ``depth``, as
    it does), then the object's ``}``: the index after it. -1 at a key it reads."""
    cdef int more = 1
    cdef Py_ssize_t ks, kl
    i = next_member(p, i, n, &more)
    while more and i >= 0:
        i = read_key(p, i, n, &ks, &kl)
        if i < 0 or bybit_known(p, ks, kl, where):
            return -1
        i = next_member(p, skip_value(p, i, n, depth), n, &more)
    return i


cdef int bybit_canonical(const unsigned char* p, Py_ssize_t n, const unsigned char* expect,
                         Py_ssize_t expect_n, int trade, Out* out) noexcept nogil:
    """The frame as Bybit writes it, or NOT_READ: no whitespace; topic, ts, type, data, then
    keys the codec does not read; in ``data`` the keys up to the last one read in Bybit's order
    (``s`` first in a book, ``T`` between ``i`` and ``p`` in a trade: both unknown, a string
    and a number, as skip_value would take them), then keys the codec does not read."""
    cdef double f0 = 0, f1 = 0, f2 = 0, f3 = 0
    cdef int64_t exch_ns = 0
    cdef Py_ssize_t tid_start = 0, tid_len = 0
    cdef int side = 0
    cdef Py_ssize_t i = read_channel(p, lit(p, 0, n, b'{"topic":', 9), n, expect, expect_n)
    i = read_ms(p, lit(p, i, n, b',"ts":', 6), n, MAX_MS, &exch_ns)
    if trade:
        i = scan_string(p, lit(p, i, n, b',"type":', 8), n)
        i = read_string(p, lit(p, i, n, b',"data":[{"i":', 14), n, &tid_start, &tid_len)
        i = scan_number(p, lit(p, i, n, b',"T":', 5), n)
        i = read_decimal(p, lit(p, i, n, b',"p":', 5), n, &f0)
        i = read_decimal(p, lit(p, i, n, b',"v":', 5), n, &f1)
        i = lit(p, i, n, b',"S":"', 6)
        if 0 <= i < n and p[i] == 83:  # S
            side = 1
            i = lit(p, i, n, b'Sell"', 5)
        else:
            i = lit(p, i, n, b'Buy"', 4)
        i = lit(p, bybit_unknown_members(p, i, n, BY_TRADE, 3), n, b"]", 1)
        if end_of_root(p, bybit_unknown_members(p, i, n, BY_ROOT, 1), n) < 0:
            return NOT_READ
        out.f0 = f0
        out.f1 = f1
        out.exch_ns = exch_ns
        out.side = side
        out.tid_start = tid_start
        out.tid_len = tid_len
        out.has_exch = 1
        return TRADE
    i = scan_string(p, lit(p, i, n, b',"type":"snapshot","data":{"s":', 31), n)
    i = read_decimal(p, lit(p, i, n, b',"b":[[', 7), n, &f0)
    i = read_decimal(p, lit(p, i, n, b",", 1), n, &f1)
    i = read_decimal(p, lit(p, i, n, b']],"a":[[', 9), n, &f2)
    i = read_decimal(p, lit(p, i, n, b",", 1), n, &f3)
    i = bybit_unknown_members(p, lit(p, i, n, b"]]", 2), n, BY_BOOK, 2)
    if end_of_root(p, bybit_unknown_members(p, i, n, BY_ROOT, 1), n) < 0:
        return NOT_READ
    out.f0 = f0
    out.f1 = f1
    out.f2 = f2
    out.f3 = f3
    out.exch_ns = exch_ns
    out.has_exch = 1
    return QUOTE


cdef int bybit_book(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    """A level-1 snapshot with one bid and one ask level."""
    if bybit_canonical(p, n, expect, expect_n, 0, out) == QUOTE:
        return QUOTE
    return bybit_frame(p, n, expect, expect_n, 0, out)


cdef int bybit_trade(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    """A publicTrade frame holding exactly one trade."""
    if bybit_canonical(p, n, expect, expect_n, 1, out) == TRADE:
        return TRADE
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
    """The bit of a key _Data knows, 0 for unknown keys (its length first, then memcmp)."""
    cdef const unsigned char* k = p + ks
    if kl == 4:
        if memcmp(k, b"asks", 4) == 0: return KU_ASKS
        if memcmp(k, b"bids", 4) == 0: return KU_BIDS
        if memcmp(k, b"size", 4) == 0: return KU_SIZE
        if memcmp(k, b"side", 4) == 0: return KU_SIDE
        if memcmp(k, b"time", 4) == 0: return KU_TIME
        if memcmp(k, b"Time", 4) == 0: return KU_OTHER
    elif kl == 5:
        if memcmp(k, b"price", 5) == 0: return KU_PRICE
    elif kl == 7:
        if memcmp(k, b"tradeId", 7) == 0: return KU_TRADE_ID
        if memcmp(k, b"bestBid", 7) == 0 or memcmp(k, b"bestAsk", 7) == 0: return KU_OTHER
    elif kl == 9:
        if memcmp(k, b"timestamp", 9) == 0: return KU_TIMESTAMP
    elif kl == 11:
        if memcmp(k, b"bestBidSize", 11) == 0 or memcmp(k, b"bestAskSize", 11) == 0:
            return KU_OTHER
    return 0


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
                i = read_ms(p, i, n, MAX_MS, &out.exch_ns)
            elif bit == KU_PRICE:
                i = read_decimal(p, i, n, &out.f0)
            elif bit == KU_SIZE:
                i = read_decimal(p, i, n, &out.f1)
            elif bit == KU_TRADE_ID:
                i = read_string(p, i, n, &out.tid_start, &out.tid_len)
            elif bit == KU_TIME:
                i = read_digit_text(p, i, n, MAX_NS, &out.exch_ns)  # ns
            else:  # side
                i = read_string(p, i, n, &vs, &vl)
                if i < 0:
                    return -1
                if same(p, vs, vl, b"buy", 3):
                    out.side = 0
                elif same(p, vs, vl, b"sell", 4):
                    out.side = 1
                else:
                    return -1
        if i < 0:
            return -1
        i = next_member(p, i, n, &more)
    if i < 0 or seen != allowed:
        return -1
    return i


cdef int kucoin_frame(const unsigned char* p, Py_ssize_t n, const unsigned char* expect,
                      Py_ssize_t expect_n, int trade, Out* out) noexcept nogil:
    """Any frame of the shape, in any key order and spacing (KuCoin's key order varies, so
    there is no canonical reader)."""
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
        if same(p, ks, kl, b"topic", 5):
            bit = 1
        elif same(p, ks, kl, b"subject", 7):
            bit = 2
        elif same(p, ks, kl, b"data", 4):
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
