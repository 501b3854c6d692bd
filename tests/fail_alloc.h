/*
 * A counting allocator that fails one chosen allocation (SQLite's
 * fault-injection habit), for cnet_replace_allocator(). fail_alloc_arm(n)
 * makes the n-th allocation from now fail (0: none); fail_alloc_live() is
 * the balance of blocks made and freed, which must come back to where it was.
 * Atomic: the lookup path allocates on libuv's threadpool. Include after
 * harness.h.
 */
#ifndef CNET_TEST_FAIL_ALLOC_H
#define CNET_TEST_FAIL_ALLOC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

static atomic_long fail_alloc_live_, fail_alloc_seq_, fail_alloc_at_;
static atomic_int fail_alloc_hit_;

static bool fail_alloc_now_(void)
{
    long n = atomic_fetch_add(&fail_alloc_seq_, 1) + 1, f = atomic_load(&fail_alloc_at_);
    if (f && n == f) {
        atomic_store(&fail_alloc_hit_, 1);
        return true;
    }
    return false;
}

static void *fail_alloc_malloc_(size_t n)
{
    void *p = fail_alloc_now_() ? NULL : malloc(n ? n : 1);
    if (p)
        atomic_fetch_add(&fail_alloc_live_, 1);
    return p;
}

static void *fail_alloc_calloc_(size_t c, size_t n)
{
    void *p = fail_alloc_now_() ? NULL : calloc(c ? c : 1, n ? n : 1);
    if (p)
        atomic_fetch_add(&fail_alloc_live_, 1);
    return p;
}

static void *fail_alloc_realloc_(void *old, size_t n)
{
    void *p;
    if (fail_alloc_now_())
        return NULL; /* the old block stays */
    p = realloc(old, n ? n : 1);
    if (p && !old)
        atomic_fetch_add(&fail_alloc_live_, 1);
    return p;
}

static void fail_alloc_free_(void *p)
{
    if (p)
        atomic_fetch_sub(&fail_alloc_live_, 1);
    free(p);
}

/* Routes cnet's allocations through the counting allocator (call once, first). */
static inline void fail_alloc_install(void)
{
    ASSERT_OK(cnet_replace_allocator(fail_alloc_malloc_, fail_alloc_realloc_, fail_alloc_calloc_,
                                     fail_alloc_free_));
}

/* Restarts the count; the @p n-th allocation from now fails (0: none does). */
static inline void fail_alloc_arm(long n)
{
    atomic_store(&fail_alloc_seq_, 0);
    atomic_store(&fail_alloc_hit_, 0);
    atomic_store(&fail_alloc_at_, n);
}

/* Allocations since the last fail_alloc_arm(). */
static inline long fail_alloc_count(void)
{
    return atomic_load(&fail_alloc_seq_);
}

/* Whether the armed failure happened. */
static inline bool fail_alloc_hit(void)
{
    return atomic_load(&fail_alloc_hit_) != 0;
}

/* Blocks allocated and not yet freed. */
static inline long fail_alloc_live(void)
{
    return atomic_load(&fail_alloc_live_);
}

#endif
