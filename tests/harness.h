/*
 * Test harness: assertion macros that print both sides, a watchdog that
 * fails a hung test fast, skips, and small loopback helpers. Header-only so
 * each tests/test_<feature>.c is one self-contained executable.
 *
 * Exit codes: 0 pass, 1 fail, 77 skip (CTest SKIP_RETURN_CODE).
 * CNET_TEST_TIMEOUT_MULTIPLIER scales the watchdog (valgrind, slow CI).
 */
#ifndef CNET_TEST_HARNESS_H
#define CNET_TEST_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cnet.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_FAIL_(...)                                 \
    do {                                                \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                   \
        fputc('\n', stderr);                            \
        abort();                                        \
    } while (0)

#define ASSERT(expr)                                   \
    do {                                               \
        if (!(expr))                                   \
            TEST_FAIL_("assertion failed: %s", #expr); \
    } while (0)

#define ASSERT_EQ(expected, actual)                                                      \
    do {                                                                                 \
        long long e_ = (long long)(expected), a_ = (long long)(actual);                  \
        if (e_ != a_)                                                                    \
            TEST_FAIL_("%s == %s: expected %lld, got %lld", #expected, #actual, e_, a_); \
    } while (0)

#define ASSERT_NE(a, b)                                        \
    do {                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);    \
        if (a_ == b_)                                          \
            TEST_FAIL_("%s != %s: both are %lld", #a, #b, a_); \
    } while (0)

/* Expects 0; on failure prints the code's name and message. */
#define ASSERT_OK(expr)                                                                           \
    do {                                                                                          \
        int r_ = (int)(expr);                                                                     \
        if (r_ != 0)                                                                              \
            TEST_FAIL_("%s failed: %d %s (%s)", #expr, r_, cnet_err_name(r_), cnet_strerror(r_)); \
    } while (0)

/* Expects a specific cnet error code, printing names on mismatch. */
#define ASSERT_ERR(code, expr)                                                     \
    do {                                                                           \
        int c_ = (int)(code), r_ = (int)(expr);                                    \
        if (c_ != r_)                                                              \
            TEST_FAIL_("%s: expected %s, got %d %s", #expr, cnet_err_name(c_), r_, \
                       cnet_err_name(r_));                                         \
    } while (0)

#define ASSERT_STR_EQ(expected, actual)                                             \
    do {                                                                            \
        const char *e_ = (expected), *a_ = (actual);                                \
        if (e_ == NULL || a_ == NULL || strcmp(e_, a_) != 0)                        \
            TEST_FAIL_("%s == %s: expected \"%s\", got \"%s\"", #expected, #actual, \
                       e_ ? e_ : "(null)", a_ ? a_ : "(null)");                     \
    } while (0)

#define ASSERT_MEM_EQ(expected, actual, len)                                            \
    do {                                                                                \
        if (memcmp((expected), (actual), (len)) != 0)                                   \
            TEST_FAIL_("%s and %s differ in their first %zu bytes", #expected, #actual, \
                       (size_t)(len));                                                  \
    } while (0)

#define TEST_SKIP_CODE 77
#define RETURN_SKIP(why)                      \
    do {                                      \
        fprintf(stderr, "SKIP: %s\n", (why)); \
        return TEST_SKIP_CODE;                \
    } while (0)

/* ---- watchdog: a hung test prints where it was and fails fast ---------- */

static const char *volatile test_phase_ = "start";

static inline void test_set_phase(const char *phase)
{
    test_phase_ = phase;
}

static void test_watchdog_fired_(int sig)
{
    static const char msg[] = "test hung (watchdog) in phase: ";
    const char *p = test_phase_;
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0 || write(2, p, strlen(p)) < 0 || write(2, "\n", 1) < 0)
        _exit(2);
    _exit(2);
}

static inline double test_timeout_multiplier(void)
{
    const char *m = getenv("CNET_TEST_TIMEOUT_MULTIPLIER");
    double v = m ? atof(m) : 1.0;
    return v > 0 ? v : 1.0;
}

/* Arms a SIGALRM watchdog of @p seconds (scaled by the multiplier). */
static inline void test_watchdog(unsigned seconds)
{
    signal(SIGALRM, test_watchdog_fired_);
    alarm((unsigned)(seconds * test_timeout_multiplier() + 0.5));
}

/* ---- event recording: compare sequences, not counts -------------------- */

typedef struct test_log {
    char buf[4096];
    size_t len;
} test_log_t;

static inline void test_log_add(test_log_t *log, const char *item)
{
    size_t n = strlen(item);
    if (log->len + n + 2 >= sizeof log->buf)
        TEST_FAIL_("event log overflow");
    if (log->len)
        log->buf[log->len++] = ' ';
    memcpy(log->buf + log->len, item, n);
    log->len += n;
    log->buf[log->len] = '\0';
}

static inline const char *test_log_str(const test_log_t *log)
{
    return log->len ? log->buf : "";
}

/* ---- node interop ------------------------------------------------------- */

/* True when a `node` binary is on PATH. */
static inline int test_have_node(void)
{
    return system("node --version >/dev/null 2>&1") == 0;
}

#endif
