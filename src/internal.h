/*
 * Private declarations shared between the library's files. Never installed.
 * Internal symbols shared across files use the cnet__ prefix.
 */
#ifndef CNET_INTERNAL_H
#define CNET_INTERNAL_H

#include <cnet.h>
#include <string.h>

/* ---- alloc.c: every allocation goes through the replaceable allocator ---- */
void *cnet__malloc(size_t n);
void *cnet__calloc(size_t count, size_t n);
void *cnet__realloc(void *p, size_t n);
void cnet__free(void *p);
char *cnet__strdup(const char *s);

#define CNET__UNUSED(x) ((void)(x))
#define CNET__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
