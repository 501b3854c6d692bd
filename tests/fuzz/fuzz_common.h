/*
 * Shared helpers for the encoding fuzzers: an independent strict UTF-8
 * validator (so the invariants do not trust the code under test) and an
 * abort-with-message check that libFuzzer reports as a crash.
 */
#ifndef CNET_FUZZ_COMMON_H
#define CNET_FUZZ_COMMON_H

#include "codec/encoding.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* Out of memory is not what we fuzz: the inputs are small. */
#define FUZZ_OK(expr) FUZZ_CHECK((expr) == 0)

/*
 * Well-formed UTF-8 by the Unicode definition (table 3-7): no overlongs, no
 * encoded surrogates, nothing above U+10FFFF, nothing truncated.
 */
static inline bool fuzz_valid_utf8(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        size_t need;
        unsigned lo = 0x80, hi = 0xBF;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        if (n - i <= need)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        i += need + 1;
    }
    return true;
}

/* True when @p p contains U+FFFD (EF BF BD). */
static inline bool fuzz_has_replacement(const char *p, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++)
        if ((unsigned char)p[i] == 0xEF && (unsigned char)p[i + 1] == 0xBF &&
            (unsigned char)p[i + 2] == 0xBD)
            return true;
    return false;
}

static inline bool fuzz_buf_eq(const cnet__strbuf_t *a, const cnet__strbuf_t *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->base, b->base, a->len) == 0);
}

static inline bool fuzz_mem_eq(const cnet__strbuf_t *a, const void *p, size_t n)
{
    return a->len == n && (n == 0 || memcmp(a->base, p, n) == 0);
}

#endif
