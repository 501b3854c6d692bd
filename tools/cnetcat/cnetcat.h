/*
 * cnetcat: a netcat on cnet's public API (issue 11). The parts:
 *
 *   options.c   argv -> nc_opts_t, ncat's option names, times and exit code 2
 *   stdio.c     stdin and stdout on libuv: terminals, pipes, sockets, files
 *   dump.c      -o (raw) and -x (hex) session logs
 *   session.c   one connection's byte path: stdio or --exec child <-> socket
 *   main.c      connect and listen modes, -k, --max-conns, --broker, --chat,
 *               --allow/--deny, verbosity, the summary and the progress line
 *   tls.c       --ssl*: contexts, and ncat's self-signed certificate for -l
 */
#ifndef CNETCAT_H
#define CNETCAT_H

#include <cnet.h>
#include <cnet/uv.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ncat's exit codes (man ncat, EXIT CODE). */
enum { NC_EXIT_OK = 0, NC_EXIT_NET = 1, NC_EXIT_USAGE = 2 };

typedef struct nc_opts {
    int family; /* 0, 4 (-4) or 6 (-6) */
    bool unix_sock, listen, keep_open, send_only, recv_only, no_shutdown;
    bool broker, chat, zero_io, append, crlf;
    int verbose;
    int max_conns; /* listen mode; ncat's default is 100 */
    const char *source;
    int source_port; /* -1: none */
    uint64_t wait_ms, idle_ms;
    const char *exec, *sh_exec;
    const char *output, *hexdump;
    cnet_blocklist_t *allow, *deny; /* NULL: no such list */
    /* TLS */
    bool ssl, ssl_verify;
    const char *ssl_cert, *ssl_key, *ssl_trustfile, *ssl_servername, *ssl_alpn, *ssl_ciphers;
    /* where */
    const char *host; /* connect: required; listen: optional */
    int port;         /* -1: none given */
    const char *path; /* -U */
} nc_opts_t;

/*
 * options.c: fills @p o; prints the reason and returns NC_EXIT_USAGE on bad input,
 * -1 to go on, 0 after --help / --version. A pure function of its arguments
 * (tests/fuzz/fuzz_cnetcat_options.c calls it many times per process): it
 * never exits, prints only to @p io's streams and reads files only through
 * @p io->open; on a return >= 0 it has freed what it allocated. NULL @p io,
 * or NULL fields: stdout, stderr and fopen(path, "r").
 */
typedef struct nc_parse_io {
    FILE *out, *err;
    FILE *(*open)(const char *path, void *arg);
    void *arg;
} nc_parse_io_t;
int nc_parse_options(int argc, char **argv, nc_opts_t *o, const nc_parse_io_t *io);
void nc_free_options(nc_opts_t *o);

/* Messages to stderr: "cnetcat: <text>." as ncat's "Ncat: <text>." */
void nc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A cnet error as ncat words it ("Connection refused"). */
const char *nc_strerror(int code, char *buf, size_t size);

/* dump.c */
int nc_dump_open(const nc_opts_t *o);
void nc_dump(const char *data, size_t len);
void nc_dump_close(void);

/* stdio.c: stdin feeds on_data (NULL data at EOF); stdout takes bytes. */
typedef void (*nc_in_cb)(const char *data, size_t len, void *arg);
int nc_stdin_start(uv_loop_t *uv, nc_in_cb cb, void *arg);
void nc_stdin_pause(bool paused);
void nc_stdin_stop(void);
int nc_stdout_open(uv_loop_t *uv);
/* Queues @p len bytes for stdout; returns true when the caller should pause
 * its sources until the drain callback runs. */
bool nc_stdout_write(const char *data, size_t len);
void nc_stdout_on_drain(void (*fn)(void *arg), void *arg);
/* Runs @p fn once everything queued has been written (at once if nothing is). */
void nc_stdout_flush(void (*fn)(void *arg), void *arg);
void nc_stdio_close(void);
void nc_stdio_free(void); /* after the loop has run dry */

/* tls.c */
int nc_tls_context(const nc_opts_t *o, cnet_tls_context_t **out);

#endif
