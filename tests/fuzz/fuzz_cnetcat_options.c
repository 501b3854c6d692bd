/*
 * cnetcat's command-line parser (tools/cnetcat/options.c) under libFuzzer.
 *
 * Input: NUL-separated strings. The first is the content of every file the
 * parser opens whose name starts with 'f' (--allowfile / --denyfile; other
 * names do not exist); the rest are argv[1..] (argv[0] is "cnetcat").
 *
 * Invariants:
 *   - the result is -1 (go on), 0 (--help / --version: something on the
 *     output stream, nothing on the error stream, nothing left allocated)
 *     or 2 (a usage error: the message ends with ncat's " QUITTING.");
 *   - on -1 the options obey the parser's own rules: --send-only and
 *     --recv-only exclusive, one of --exec / --sh-exec and not with
 *     --broker, -U with a path and none of -4/-6/-s/-p/host, a port in
 *     0..65535 in both modes, a host to connect to, --allow / --deny /
 *     --broker only with -l, times 1 ms..2147483 s, every string one of
 *     the argument strings (or inside one);
 *   - parsing the same argv again gives the same result, options and messages
 *     (the parser keeps no state between calls; glibc's getopt does, which
 *     is why options.c resets it with optind = 0);
 *   - no leak (LSan), no output to the real stdout / stderr.
 */
#include "cnetcat.h"
#include "fuzz_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHECK FUZZ_CHECK

#define MAX_ARGS 64

typedef struct {
    const char *content;
    size_t len;
} files_t;

static FILE *open_file(const char *path, void *arg)
{
    files_t *f = arg;
    if (path[0] != 'f') {
        errno = ENOENT;
        return NULL;
    }
    /* fmemopen refuses a size of 0: an empty file is /dev/null's content. */
    return f->len ? fmemopen((void *)f->content, f->len, "r") : fopen("/dev/null", "r");
}

typedef struct {
    int rc;
    nc_opts_t o;
    char *out, *err;
    size_t out_len, err_len;
    size_t allow_rules, deny_rules;
} result_t;

static void parse(int argc, char **args, files_t *files, result_t *r)
{
    char *argv[MAX_ARGS + 2];
    FILE *out, *err;
    nc_parse_io_t io;

    /* getopt permutes argv: give it a copy of the array every time. */
    memcpy(argv, args, sizeof(char *) * (size_t)(argc + 1));
    memset(r, 0, sizeof *r);
    out = open_memstream(&r->out, &r->out_len);
    err = open_memstream(&r->err, &r->err_len);
    CHECK(out && err);
    io = (nc_parse_io_t){out, err, open_file, files};
    r->rc = nc_parse_options(argc, argv, &r->o, &io);
    fclose(out);
    fclose(err);
    r->allow_rules = r->o.allow ? cnet_blocklist_rule_count(r->o.allow) : 0;
    r->deny_rules = r->o.deny ? cnet_blocklist_rule_count(r->o.deny) : 0;
}

static bool in_args(const char *s, int argc, char **argv)
{
    if (!s)
        return true;
    for (int i = 1; i < argc; i++)
        if (s >= argv[i] && s <= argv[i] + strlen(argv[i]))
            return true;
    return false;
}

static bool time_ok(uint64_t ms)
{
    return ms == 0 || (ms >= 1 && ms <= 2147483000u);
}

static void check(const result_t *r, int argc, char **argv)
{
    const nc_opts_t *o = &r->o;

    CHECK(r->rc == -1 || r->rc == 0 || r->rc == NC_EXIT_USAGE);
    if (r->rc == NC_EXIT_USAGE) {
        static const char tail[] = " QUITTING.\n";
        CHECK(r->err_len >= sizeof tail - 1);
        CHECK(strcmp(r->err + r->err_len - (sizeof tail - 1), tail) == 0);
        return;
    }
    if (r->rc == 0) {
        CHECK(r->out_len > 0 && r->err_len == 0);
        CHECK(!o->allow && !o->deny);
        return;
    }
    CHECK(r->out_len == 0 && r->err_len == 0);
    CHECK(!(o->send_only && o->recv_only));
    CHECK(!(o->exec && o->sh_exec));
    CHECK(!((o->exec || o->sh_exec) && (o->broker || o->send_only || o->recv_only)));
    CHECK(o->family == 0 || o->family == 4 || o->family == 6);
    CHECK(o->max_conns >= 1);
    CHECK(o->source_port >= -1 && o->source_port <= 65535);
    CHECK(time_ok(o->wait_ms) && time_ok(o->idle_ms));
    CHECK(!o->chat || o->broker);
    CHECK(!o->broker || o->keep_open);
    CHECK(!(o->broker || o->allow || o->deny) || o->listen);
    CHECK(o->verbose >= 0);
    if (o->unix_sock) {
        CHECK(o->path && !o->host && o->family == 0 && !o->source && o->source_port < 0);
    } else {
        CHECK(!o->path);
        CHECK(o->port >= 0 && o->port <= 65535);
        CHECK(o->listen || o->host);
    }
    const char *strs[] = {
        o->source,      o->exec,    o->sh_exec,       o->output,         o->hexdump,
        o->ssl_cert,    o->ssl_key, o->ssl_trustfile, o->ssl_servername, o->ssl_alpn,
        o->ssl_ciphers, o->host,    o->path};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        CHECK(in_args(strs[i], argc, argv));
    CHECK(!(o->ssl_cert || o->ssl_key || o->ssl_verify || o->ssl_trustfile || o->ssl_ciphers ||
            o->ssl_servername || o->ssl_alpn) ||
          o->ssl);
}

static bool same(const result_t *a, const result_t *b)
{
    nc_opts_t x = a->o, y = b->o;

    x.allow = x.deny = y.allow = y.deny = NULL; /* compared by rule count */
    return a->rc == b->rc && memcmp(&x, &y, sizeof x) == 0 && a->out_len == b->out_len &&
           a->err_len == b->err_len && memcmp(a->out, b->out, a->out_len) == 0 &&
           memcmp(a->err, b->err, a->err_len) == 0 && a->allow_rules == b->allow_rules &&
           a->deny_rules == b->deny_rules && !a->o.allow == !b->o.allow && !a->o.deny == !b->o.deny;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
    static char prog[] = "cnetcat";
    files_t files;
    result_t r1, r2;
    size_t i = 0;
    int argc = 1;

    CHECK(buf != NULL);
    memcpy(buf, data, size);
    buf[size] = '\0';
    files.content = buf;
    files.len = strlen(buf);
    i = files.len + 1;
    argv[0] = prog;
    while (i < size && argc <= MAX_ARGS) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;

    parse(argc, argv, &files, &r1);
    check(&r1, argc, argv);
    parse(argc, argv, &files, &r2);
    CHECK(same(&r1, &r2));
    nc_free_options(&r1.o);
    nc_free_options(&r2.o);
    free(r1.out);
    free(r1.err);
    free(r2.out);
    free(r2.err);
    free(buf);
    return 0;
}
