/* The pluggable allocator (cnet_replace_allocator), used for every allocation cnet makes. */
#include "internal.h"

#include <stdlib.h>

static struct {
    void *(*malloc_fn)(size_t);
    void *(*realloc_fn)(void *, size_t);
    void *(*calloc_fn)(size_t, size_t);
    void (*free_fn)(void *);
} allocator = {malloc, realloc, calloc, free};

int cnet_replace_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                           void *(*calloc_fn)(size_t, size_t), void (*free_fn)(void *))
{
    if (!malloc_fn || !realloc_fn || !calloc_fn || !free_fn)
        return CNET_ERR_INVALID_ARG_TYPE;
    allocator.malloc_fn = malloc_fn;
    allocator.realloc_fn = realloc_fn;
    allocator.calloc_fn = calloc_fn;
    allocator.free_fn = free_fn;
    return 0;
}

void *cnet__malloc(size_t n)
{
    return allocator.malloc_fn(n ? n : 1);
}

void *cnet__calloc(size_t count, size_t n)
{
    return allocator.calloc_fn(count ? count : 1, n ? n : 1);
}

void *cnet__realloc(void *p, size_t n)
{
    return allocator.realloc_fn(p, n ? n : 1);
}

void cnet__free(void *p)
{
    if (p)
        allocator.free_fn(p);
}

char *cnet__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = cnet__malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}
