/*
 * The C side of the TLS differential tests: JSON written exactly as node's
 * JSON.stringify writes it, the cases file for tests/node/tls_oracle.js, and
 * a line-by-line comparison of node's answers with ours.
 * CNET_TLS_ORACLE_SHOW=1 prints node's lines.
 */
#ifndef CNET_TEST_TLS_ORACLE_H
#define CNET_TEST_TLS_ORACLE_H

#include "harness.h"

#include <cnet.h>
#include <openssl/evp.h>
#include <stdarg.h>

typedef struct json {
    char *p;
    size_t len, cap;
} json_t;

static inline void json_raw(json_t *j, const char *s, size_t n)
{
    if (j->len + n + 1 > j->cap) {
        j->cap = (j->len + n + 1) * 2 + 256;
        j->p = realloc(j->p, j->cap);
        ASSERT(j->p != NULL);
    }
    memcpy(j->p + j->len, s, n);
    j->len += n;
    j->p[j->len] = '\0';
}

static inline void json_lit(json_t *j, const char *s)
{
    json_raw(j, s, strlen(s));
}

static inline void json_printf(json_t *j, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static inline void json_printf(json_t *j, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ASSERT(n >= 0 && (size_t)n < sizeof buf);
    json_raw(j, buf, (size_t)n);
}

/* A string as JSON.stringify writes one (UTF-8 kept as is). */
static inline void json_str(json_t *j, const char *s)
{
    json_lit(j, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"':
            json_lit(j, "\\\"");
            break;
        case '\\':
            json_lit(j, "\\\\");
            break;
        case '\b':
            json_lit(j, "\\b");
            break;
        case '\f':
            json_lit(j, "\\f");
            break;
        case '\n':
            json_lit(j, "\\n");
            break;
        case '\r':
            json_lit(j, "\\r");
            break;
        case '\t':
            json_lit(j, "\\t");
            break;
        default:
            if (c < 0x20)
                json_printf(j, "\\u%04x", c);
            else
                json_raw(j, (const char *)&c, 1);
        }
    }
    json_lit(j, "\"");
}

static inline void json_key(json_t *j, const char *key)
{
    if (j->len && j->p[j->len - 1] != '{' && j->p[j->len - 1] != '[')
        json_lit(j, ",");
    json_str(j, key);
    json_lit(j, ":");
}

static inline void json_kstr(json_t *j, const char *key, const char *value)
{
    json_key(j, key);
    if (value)
        json_str(j, value);
    else
        json_lit(j, "null");
}

static inline void json_comma(json_t *j)
{
    if (j->len && j->p[j->len - 1] != '{' && j->p[j->len - 1] != '[')
        json_lit(j, ",");
}

/* A distinguished name as node's object: keys in first-seen order, repeated ones as arrays. */
static inline void json_name(json_t *j, const cnet_tls_name_t *name)
{
    json_lit(j, "{");
    for (size_t i = 0; i < name->count; i++) {
        const char *key = name->entries[i].key;
        size_t seen = 0, n = 0;
        for (size_t k = 0; k < i; k++)
            seen += strcmp(name->entries[k].key, key) == 0;
        if (seen)
            continue;
        for (size_t k = i; k < name->count; k++)
            n += strcmp(name->entries[k].key, key) == 0;
        json_key(j, key);
        if (n == 1) {
            json_str(j, name->entries[i].value);
            continue;
        }
        json_lit(j, "[");
        for (size_t k = i; k < name->count; k++) {
            if (strcmp(name->entries[k].key, key) != 0)
                continue;
            json_comma(j);
            json_str(j, name->entries[k].value);
        }
        json_lit(j, "]");
    }
    json_lit(j, "}");
}

/* The fields of getPeerCertificate() that tests/node/tls_oracle.js prints, in its order. */
static inline void json_cert(json_t *j, const cnet_tls_cert_t *c)
{
    json_lit(j, "{");
    json_key(j, "subject");
    json_name(j, &c->subject);
    json_key(j, "issuer");
    json_name(j, &c->issuer);
    if (c->subjectaltname)
        json_kstr(j, "subjectaltname", c->subjectaltname);
    json_key(j, "ca");
    json_lit(j, c->ca ? "true" : "false");
    if (c->bits) {
        json_key(j, "bits");
        json_printf(j, "%d", c->bits);
    }
    json_kstr(j, "valid_from", c->valid_from);
    json_kstr(j, "valid_to", c->valid_to);
    json_key(j, "not_before");
    json_printf(j, "%" PRId64, c->not_before);
    json_key(j, "not_after");
    json_printf(j, "%" PRId64, c->not_after);
    json_kstr(j, "serialNumber", c->serial_number);
    json_kstr(j, "fingerprint", c->fingerprint);
    json_kstr(j, "fingerprint256", c->fingerprint256);
    json_kstr(j, "fingerprint512", c->fingerprint512);
    char *b64 = malloc(4 * ((c->raw_len + 2) / 3) + 1);
    ASSERT(b64 != NULL);
    EVP_EncodeBlock((unsigned char *)b64, c->raw, (int)c->raw_len);
    json_kstr(j, "raw", b64);
    free(b64);
    json_lit(j, "}");
}

/*
 * Writes @p cases (a JSON array's text) with @p mode to a file, runs node's
 * oracle on it, and compares its lines with @p ours (one line per case).
 * Returns the number of differences; prints the first few.
 */
static inline int oracle_compare(const char *mode, const char *cases, char **ours, size_t n)
{
    char path[] = "/tmp/cnet-tls-oracle-XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    FILE *f = fdopen(fd, "w");
    ASSERT(f != NULL);
    fprintf(f, "{\"mode\":\"%s\",\"cases\":%s}", mode, cases);
    ASSERT(fclose(f) == 0);

    char cmd[512];
    snprintf(cmd, sizeof cmd, "node %s/node/tls_oracle.js %s", CNET_TEST_SOURCE_DIR, path);
    FILE *p = popen(cmd, "r");
    ASSERT(p != NULL);
    size_t cap = 1 << 16, i = 0;
    char *line = malloc(cap);
    int diffs = 0;
    ASSERT(line != NULL);
    for (;;) {
        size_t len = 0;
        int c;
        while ((c = fgetc(p)) != EOF && c != '\n') {
            if (len + 2 > cap) {
                cap *= 2;
                line = realloc(line, cap);
                ASSERT(line != NULL);
            }
            line[len++] = (char)c;
        }
        if (c == EOF && len == 0)
            break;
        line[len] = '\0';
        if (getenv("CNET_TLS_ORACLE_SHOW")) /* to see the cases */
            fprintf(stderr, "%s %zu: %s\n", mode, i, line);
        if (i >= n) {
            fprintf(stderr, "node printed an extra line: %s\n", line);
            diffs++;
        } else if (strcmp(line, ours[i]) != 0) {
            if (diffs < 5)
                fprintf(stderr, "case %zu differs:\n  node: %s\n  cnet: %s\n", i, line, ours[i]);
            diffs++;
        }
        i++;
    }
    free(line);
    ASSERT_EQ(0, pclose(p));
    unlink(path);
    if (i != n) {
        fprintf(stderr, "node answered %zu cases of %zu\n", i, n);
        diffs++;
    }
    return diffs;
}

#endif
