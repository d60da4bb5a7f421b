# MEXC protobuf push codec: a stub until the codec lands. Returns NOT_READ.

cdef int mexc_push(const unsigned char* p, Py_ssize_t n, const unsigned char* expect, Py_ssize_t expect_n, Out* out) noexcept nogil:
    return NOT_READ
