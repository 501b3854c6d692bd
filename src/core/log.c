/*
 * Logging: the library never prints; it hands one-line messages to the
 * application's logger. The level check happens before any formatting.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

int cnet__log_level = -1; /* nothing is formatted until a logger is installed */
static void (*log_fn)(void *arg, cnet_log_level_t level, const char *msg);
static void *log_arg;

void cnet_set_logger(void (*fn)(void *arg, cnet_log_level_t level, const char *msg), void *arg,
                     cnet_log_level_t max_level)
{
    log_fn = fn;
    log_arg = arg;
    cnet__log_level = fn ? (int)max_level : -1;
}

void cnet__log_(cnet_log_level_t level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!log_fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_fn(log_arg, level, msg);
}
