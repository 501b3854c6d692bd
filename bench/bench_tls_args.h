/*
 * bench_tls_args.h: the command line every TLS echo server of the bench takes.
 *
 *   PROG [--tls1.2] --cert CERT.pem --key KEY.pem HOST:PORT | [V6]:PORT | unix:PATH
 *
 *   --cert FILE   the server's certificate chain (PEM, leaf first)
 *   --key FILE    its private key (PEM, unencrypted)
 *   --tls1.2      cap the protocol at TLS 1.2 (the default allows 1.2 and 1.3,
 *                 so a TLS 1.3 client gets 1.3)
 *
 * The target is the last argument and goes through bench_addr_parse(), so a
 * TLS server refuses every address but 127.0.0.1, ::1 and a Unix socket path,
 * as the plain ones do. Header-only, without OpenSSL: cnet's TLS echo server
 * uses it too.
 */
#ifndef BENCH_TLS_ARGS_H
#define BENCH_TLS_ARGS_H

#include <stdbool.h>

#include "bench_addr.h"

struct bench_tls_args {
    const char *cert_file;
    const char *key_file;
    bool tls12_only;
    struct bench_addr addr;
    const char *target; /* the argument as given, for messages */
};

static inline void bench_tls_usage(const char *prog, const char *why)
{
    if (why != NULL)
        fprintf(stderr, "%s: %s\n", prog, why);
    fprintf(stderr,
            "usage: %s [--tls1.2] --cert CERT.pem --key KEY.pem HOST:PORT | [V6]:PORT | "
            "unix:PATH\n",
            prog);
    exit(2);
}

/* Parses argv into @a or exits with a usage message (status 2). */
static inline void bench_tls_args_from_args(int argc, char **argv, struct bench_tls_args *a)
{
    char err[256];
    int i;

    memset(a, 0, sizeof(*a));
    for (i = 1; i < argc - 1; i++) {
        if (strcmp(argv[i], "--tls1.2") == 0)
            a->tls12_only = true;
        else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc - 1)
            a->cert_file = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc - 1)
            a->key_file = argv[++i];
        else
            bench_tls_usage(argv[0], "bad arguments");
    }
    if (argc < 2 || i != argc - 1)
        bench_tls_usage(argv[0], "missing target");
    if (a->cert_file == NULL || a->key_file == NULL)
        bench_tls_usage(argv[0], "--cert and --key are required");
    a->target = argv[argc - 1];
    if (bench_addr_parse(a->target, &a->addr, err, sizeof(err)) != 0)
        bench_tls_usage(argv[0], err);
}

#endif /* BENCH_TLS_ARGS_H */
