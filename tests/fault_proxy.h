/*
 * A user-space TCP fault proxy for tests: listens on 127.0.0.1:0 and
 * forwards every accepted connection to 127.0.0.1:target, injecting the
 * faults of its options. It runs on raw libuv in a thread of its own (not
 * on cnet), so the faults do not depend on the code under test and both
 * ends see a concurrent peer, as over a real network.
 *
 * Faults (combinable; bytes always stay in order, only timing, write
 * boundaries and the connection's fate change):
 *   delay_ms         every chunk read is written delay_ms later
 *   fragment         every byte is its own write (the next one after the
 *                    previous write completed), with a gap of fragment_gap_ms
 *                    every fragment_gap_every bytes
 *   stall_every/ms   forwarding stops for stall_ms every stall_every bytes
 *   rechunk          write boundaries move: reads are held up to 2 ms to
 *                    coalesce, then written in pieces split at random offsets
 *   reset            RST (SO_LINGER 0, then close) of both sides at a stage,
 *                    see fault_proxy_reset_t
 * Randomness (rechunk) comes from seed.
 */
#ifndef CNET_TEST_FAULT_PROXY_H
#define CNET_TEST_FAULT_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum fault_proxy_reset {
    FP_RESET_NONE,
    FP_RESET_AT_ACCEPT,   /* RST the client at accept, before any byte (no upstream) */
    FP_RESET_AFTER_C2S,   /* after forwarding reset_after bytes client->server */
    FP_RESET_AFTER_S2C,   /* after forwarding reset_after bytes server->client */
    FP_RESET_AT_C2S_FIN,  /* when the client's FIN arrives (not forwarded) */
    FP_RESET_AT_S2C_FIN,  /* when the server's FIN arrives (not forwarded) */
    FP_RESET_AFTER_HELLO, /* TLS: once the client's first record (ClientHello) is forwarded */
    /* TLS: the server's first flight is forwarded whole; the client's next bytes (its
     * second flight) are not: RST instead. */
    FP_RESET_AFTER_SERVER_FLIGHT,
} fault_proxy_reset_t;

typedef struct fault_proxy_opts {
    unsigned delay_ms;
    bool fragment;
    unsigned fragment_gap_every; /* 0: no gaps */
    unsigned fragment_gap_ms;
    size_t stall_every; /* 0: no stalls */
    unsigned stall_ms;
    bool rechunk;
    fault_proxy_reset_t reset;
    uint64_t reset_after; /* FP_RESET_AFTER_C2S / _S2C: bytes forwarded first (0: at the first) */
    uint32_t seed;
} fault_proxy_opts_t;

typedef struct fault_proxy fault_proxy_t;

/* Starts a proxy to 127.0.0.1:@p target_port; returns NULL on failure. */
fault_proxy_t *fault_proxy_start(const fault_proxy_opts_t *opts, int target_port);
/* The port it listens on (127.0.0.1). */
int fault_proxy_port(const fault_proxy_t *p);

typedef struct fault_proxy_stats {
    unsigned accepted;     /* connections accepted */
    unsigned resets;       /* connections reset by the reset fault */
    uint64_t c2s, s2c;     /* bytes forwarded each way */
    uint64_t writes;       /* writes made, both ways */
    uint64_t coalesced;    /* writes that joined more than one read */
    uint64_t split;        /* writes that ended inside a read */
    uint64_t stalls;       /* stalls taken */
    uint64_t hello_len;    /* the last client's first TLS record, header included (0: none) */
    unsigned upstream_err; /* upstream connects that failed */
} fault_proxy_stats_t;

/* A snapshot of the counters (thread-safe). */
void fault_proxy_stats(fault_proxy_t *p, fault_proxy_stats_t *out);
/* Closes every connection (RST) and the listener, joins the thread, frees. */
void fault_proxy_stop(fault_proxy_t *p);

#endif
