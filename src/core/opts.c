/*
 * Options structs across library versions (cnet.h, "Options structs and the
 * ABI"): each begins with the size the caller's header gave it. We read
 * that many bytes into a zeroed copy of our own layout, so fields an older
 * program does not know take their zero defaults, and we refuse a newer
 * program's struct only when it sets a field we do not have.
 */
#include "internal.h"

int cnet__opts_load(void *dst, size_t dst_size, const void *src, size_t min_size)
{
    const unsigned char *p = src;
    size_t n;

    memcpy(&n, src, sizeof n);
    if (n < min_size)
        return CNET_ERR_INVALID_ARG_VALUE; /* not initialised with its *_INIT macro */
    for (size_t i = dst_size; i < n; i++)
        if (p[i])
            return CNET_ERR_INVALID_ARG_VALUE; /* a field this library does not know */
    memset(dst, 0, dst_size);
    memcpy(dst, src, n < dst_size ? n : dst_size);
    memcpy(dst, &dst_size, sizeof dst_size);
    return 0;
}
