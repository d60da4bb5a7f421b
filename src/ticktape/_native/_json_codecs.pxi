# JSON codecs (Binance, Bybit, KuCoin): stubs until the codecs land. Each returns NOT_READ.

cdef int binance_book(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    return NOT_READ

cdef int binance_trade(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    return NOT_READ

cdef int bybit_book(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    return NOT_READ

cdef int bybit_trade(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    return NOT_READ

cdef int kucoin_level1(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    return NOT_READ

cdef int kucoin_match(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    return NOT_READ
