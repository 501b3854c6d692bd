/*
 * Certificate verification as node reports it.
 *
 *   cnet__tls_verify_code()       X509_V_ERR_* -> node's code (crypto_common.cc X509ErrorCode)
 *   cnet__tls_check_identity()    tls.checkServerIdentity (lib/tls.js), rule for rule
 *   cnet_tls_check_server_identity()  the public form, over a cnet_tls_cert_t
 *
 * checkServerIdentity works on the certificate as getPeerCertificate()
 * prints it, not on the X509: the subject's CN values and the
 * subjectaltname string, which it splits again (names with ',' or '"' are
 * quoted JSON strings there). We do the same, so that every quirk of node's
 * parsing (and of its messages, which quote that string) is kept.
 */
#include "tls/tls.h"

#include <openssl/x509_vfy.h>
#include <stdio.h>

int cnet__tls_verify_code(long x509_err)
{
    switch (x509_err) {
    case X509_V_OK:
        return 0;
#define CNET__VERIFY_CASE(name, value, msg) \
    case X509_V_ERR_##name:                 \
        return CNET_##name;
        CNET_TLS_VERIFY_ERR_MAP(CNET__VERIFY_CASE)
#undef CNET__VERIFY_CASE
    default:
        return CNET_UNSPECIFIED;
    }
}

/* ---- a growable string ---------------------------------------------------- */

typedef struct str {
    char *p;
    size_t len, cap;
    bool oom;
} str_t;

static void str_addn(str_t *s, const char *src, size_t n)
{
    if (s->oom)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = cnet__realloc(s->p, cap);
        if (!p) {
            s->oom = true;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, src, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void str_add(str_t *s, const char *src)
{
    str_addn(s, src, strlen(src));
}

static void str_add_utf8(str_t *s, unsigned cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    str_addn(s, b, n);
}

/* ---- lists of strings --------------------------------------------------- */

typedef struct strlist {
    char **v;
    size_t n, cap;
    bool oom;
} strlist_t;

/* Takes ownership of @p item (which may be NULL: node's `undefined`). */
static void list_push(strlist_t *l, char *item)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **v = cnet__realloc(l->v, cap * sizeof *v);
        if (!v) {
            cnet__free(item);
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = item;
}

/* Pushes a string that must exist: NULL means its allocation failed. */
static void list_push_str(strlist_t *l, char *item)
{
    if (!item)
        l->oom = true;
    else
        list_push(l, item);
}

static void list_free(strlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        cnet__free(l->v[i]);
    cnet__free(l->v);
}

static char *dupn(const char *s, size_t n)
{
    char *p = cnet__malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* ---- splitting subjectaltname (splitEscapedAltNames) ----------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Node's jsonStringPattern, /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/,
 * then JSON.parse of the match. Returns the length matched (0: no match) and
 * appends the decoded string to @p out.
 */
static size_t json_string(const char *p, str_t *out)
{
    const char *q = p + 1;
    if (*p != '"')
        return 0;
    for (;;) {
        unsigned char c = (unsigned char)*q;
        if (c == '"')
            return (size_t)(q + 1 - p);
        if (c == '\0' || c < 0x20)
            return 0;
        if (c != '\\') {
            str_addn(out, (const char *)q, 1);
            q++;
            continue;
        }
        switch (q[1]) {
        case '"':
        case '\\':
        case '/':
            str_addn(out, q + 1, 1);
            q += 2;
            break;
        case 'b':
            str_add(out, "\b");
            q += 2;
            break;
        case 'f':
            str_add(out, "\f");
            q += 2;
            break;
        case 'n':
            str_add(out, "\n");
            q += 2;
            break;
        case 'r':
            str_add(out, "\r");
            q += 2;
            break;
        case 't':
            str_add(out, "\t");
            q += 2;
            break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 2; i < 6; i++) {
                int h = hexval(q[i]);
                if (h < 0)
                    return 0;
                cp = cp * 16 + (unsigned)h;
            }
            q += 6;
            /* A surrogate pair is one character; a lone surrogate (which
             * JavaScript keeps) has no UTF-8 form: any non-ASCII text fails
             * the name checks alike, so U+FFFD stands in for it. */
            if (cp >= 0xD800 && cp <= 0xDBFF && q[0] == '\\' && q[1] == 'u') {
                unsigned lo = 0;
                int ok = 1;
                for (int i = 2; i < 6; i++) {
                    int h = hexval(q[i]);
                    if (h < 0) {
                        ok = 0;
                        break;
                    }
                    lo = lo * 16 + (unsigned)h;
                }
                if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    q += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD;
            str_add_utf8(out, cp);
            break;
        }
        default:
            return 0;
        }
    }
}

/*
 * The names of @p altnames, split as node v20 splits them: on ", " when
 * there is no '"' at all, else by splitEscapedAltNames (which looks for ','
 * but skips two characters). Returns 0, CNET_ERR_TLS_CERT_ALTNAME_FORMAT,
 * CNET_ENOMEM.
 */
static int split_altnames(const char *altnames, strlist_t *out)
{
    size_t len = strlen(altnames), off = 0;

    if (!strchr(altnames, '"')) {
        const char *p = altnames;
        for (;;) {
            const char *sep = strstr(p, ", ");
            if (!sep) {
                list_push_str(out, cnet__strdup(p));
                break;
            }
            list_push_str(out, dupn(p, (size_t)(sep - p)));
            p = sep + 2;
        }
        return out->oom ? CNET_ENOMEM : 0;
    }

    str_t tok = {0};
    str_add(&tok, "");
    while (off < len) {
        const char *sep = strchr(altnames + off, ',');
        const char *quote = strchr(altnames + off, '"');
        if (quote && (!sep || quote < sep)) {
            str_addn(&tok, altnames + off, (size_t)(quote - (altnames + off)));
            size_t m = json_string(quote, &tok);
            if (!m) {
                cnet__free(tok.p);
                return CNET_ERR_TLS_CERT_ALTNAME_FORMAT;
            }
            off = (size_t)(quote - altnames) + m;
        } else if (sep) {
            str_addn(&tok, altnames + off, (size_t)(sep - (altnames + off)));
            if (tok.oom) {
                cnet__free(tok.p);
                out->oom = true;
                return CNET_ENOMEM;
            }
            list_push_str(out, tok.p);
            tok = (str_t){0};
            str_add(&tok, "");
            off = (size_t)(sep - altnames) + 2;
            if (off > len) /* node's substring clamps: the loop ends */
                off = len;
        } else {
            str_add(&tok, altnames + off);
            off = len;
        }
    }
    if (tok.oom) {
        cnet__free(tok.p);
        return CNET_ENOMEM;
    }
    list_push_str(out, tok.p);
    return out->oom ? CNET_ENOMEM : 0;
}

/* ---- the checks ------------------------------------------------------------ */

/*
 * canonicalizeIP (cares_wrap.cc): inet_pton as v4 then v6, inet_ntop. NULL
 * is node's `undefined` (not an address); *oom says an allocation failed.
 */
static char *canonical_ip(const char *ip, bool *oom)
{
    unsigned char bin[16];
    char buf[64];
    int af = uv_inet_pton(AF_INET, ip, bin) == 0    ? AF_INET
             : uv_inet_pton(AF_INET6, ip, bin) == 0 ? AF_INET6
                                                    : 0;
    if (!af || uv_inet_ntop(af, bin, buf, sizeof buf) != 0)
        return NULL;
    char *s = cnet__strdup(buf);
    if (!s)
        *oom = true;
    return s;
}

/* splitHost(): unfqdn, A-Z lower-cased, split on '.'. */
static int split_host(const char *host, strlist_t *parts)
{
    size_t n = strlen(host);
    if (n && host[n - 1] == '.')
        n--;
    char *h = dupn(host, n);
    if (!h)
        return CNET_ENOMEM;
    for (char *c = h; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + 32);
    const char *p = h;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(h + n - p));
        if (!dot) {
            list_push_str(parts, dupn(p, (size_t)(h + n - p)));
            break;
        }
        list_push_str(parts, dupn(p, (size_t)(dot - p)));
        p = dot + 1;
    }
    cnet__free(h);
    return parts->oom ? CNET_ENOMEM : 0;
}

static bool has_bad_char(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7F)
            return true;
    return false;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* check(hostParts, pattern, wildcards = true). -1 when out of memory. */
static int check(const strlist_t *host, const char *pattern)
{
    strlist_t parts = {0};
    int ok = 0;

    if (!pattern || !*pattern)
        return 0;
    if (split_host(pattern, &parts) != 0) {
        list_free(&parts);
        return -1;
    }
    if (host->n != parts.n)
        goto out;
    for (size_t i = 0; i < parts.n; i++)
        if (!parts.v[i][0] || has_bad_char(parts.v[i]))
            goto out;
    for (size_t i = host->n - 1; i > 0; i--)
        if (strcmp(host->v[i], parts.v[i]) != 0)
            goto out;

    const char *hsub = host->v[0], *psub = parts.v[0];
    const char *star = strchr(psub, '*');
    if (!star || strstr(psub, "xn--")) {
        ok = strcmp(hsub, psub) == 0;
        goto out;
    }
    if (strchr(star + 1, '*')) /* more than one wildcard */
        goto out;
    if (parts.n <= 2) /* *.tld */
        goto out;
    size_t plen = (size_t)(star - psub), slen = strlen(star + 1), hlen = strlen(hsub);
    if (plen + slen > hlen)
        goto out;
    ok = strncmp(hsub, psub, plen) == 0 && strcmp(hsub + hlen - slen, star + 1) == 0;
out:
    list_free(&parts);
    return ok;
}

/* a + b + c + d, allocated; NULL when out of memory. */
static char *concat(const char *a, const char *b, const char *c, const char *d)
{
    str_t s = {0};
    str_add(&s, a);
    str_add(&s, b);
    str_add(&s, c);
    str_add(&s, d);
    if (s.oom) {
        cnet__free(s.p);
        return NULL;
    }
    return s.p;
}

int cnet__tls_check_identity(const char *hostname, const cnet_tls_name_t *subject,
                             const char *subjectaltname, char **reason)
{
    strlist_t names = {0}, dns = {0}, ips = {0}, host = {0};
    const char *cn[64];
    size_t ncn = 0;
    char *hn = NULL, *canon = NULL;
    bool valid = false;
    int rc = 0;

    *reason = NULL;
    if (subjectaltname && *subjectaltname) {
        rc = split_altnames(subjectaltname, &names);
        if (rc)
            goto out;
        for (size_t i = 0; i < names.n; i++) {
            const char *name = names.v[i];
            if (!name)
                continue;
            if (starts_with(name, "DNS:"))
                list_push_str(&dns, cnet__strdup(name + 4));
            else if (starts_with(name, "IP Address:"))
                list_push(&ips, canonical_ip(name + 11, &ips.oom));
        }
        if (dns.oom || ips.oom) {
            rc = CNET_ENOMEM;
            goto out;
        }
    }
    for (size_t i = 0; subject && i < subject->count && ncn < CNET__ARRAY_SIZE(cn); i++)
        if (strcmp(subject->entries[i].key, "CN") == 0)
            cn[ncn++] = subject->entries[i].value;

    /* unfqdn(): the trailing dot goes, also from the messages. */
    size_t hlen = strlen(hostname);
    hn = dupn(hostname, hlen && hostname[hlen - 1] == '.' ? hlen - 1 : hlen);
    if (!hn) {
        rc = CNET_ENOMEM;
        goto out;
    }

    if (cnet_is_ip(hn)) {
        bool oom = false;
        canon = canonical_ip(hn, &oom);
        if (oom) {
            rc = CNET_ENOMEM;
            goto out;
        }
        str_t list = {0};
        str_add(&list, "");
        for (size_t i = 0; i < ips.n; i++) {
            /* Array.includes(): `undefined` (an unparsable address) equals itself. */
            if (ips.v[i] ? canon && strcmp(ips.v[i], canon) == 0 : !canon)
                valid = true;
            if (i)
                str_add(&list, ", ");
            str_add(&list, ips.v[i] ? ips.v[i] : "");
        }
        if (!valid)
            *reason = list.oom ? NULL : concat("IP: ", hn, " is not in the cert's list: ", list.p);
        cnet__free(list.p);
    } else if (dns.n > 0 || ncn > 1 || (ncn == 1 && cn[0][0])) {
        if (split_host(hn, &host) != 0) {
            rc = CNET_ENOMEM;
            goto out;
        }
        if (dns.n > 0) {
            for (size_t i = 0; i < dns.n && !valid; i++) {
                int r = check(&host, dns.v[i]);
                if (r < 0) {
                    rc = CNET_ENOMEM;
                    goto out;
                }
                valid = r == 1;
            }
            if (!valid)
                *reason = concat("Host: ", hn, ". is not in the cert's altnames: ", subjectaltname);
        } else {
            /* Only when no DNS name exists: the CN (an array when repeated,
             * printed as JavaScript prints one: joined with ','). */
            str_t all = {0};
            str_add(&all, "");
            for (size_t i = 0; i < ncn; i++) {
                int r = valid ? 0 : check(&host, cn[i]);
                if (r < 0) {
                    cnet__free(all.p);
                    rc = CNET_ENOMEM;
                    goto out;
                }
                valid = valid || r == 1;
                if (i)
                    str_add(&all, ",");
                str_add(&all, cn[i]);
            }
            if (!valid)
                *reason = all.oom ? NULL : concat("Host: ", hn, ". is not cert's CN: ", all.p);
            cnet__free(all.p);
        }
    } else {
        *reason = cnet__strdup("Cert does not contain a DNS name");
    }
    if (!valid)
        rc = *reason ? CNET_ERR_TLS_CERT_ALTNAME_INVALID : CNET_ENOMEM;
out:
    cnet__free(canon);
    cnet__free(hn);
    list_free(&names);
    list_free(&dns);
    list_free(&ips);
    list_free(&host);
    return rc;
}

int cnet_tls_check_server_identity(const char *hostname, const cnet_tls_cert_t *cert, char *reason,
                                   size_t reason_size)
{
    char *why = NULL;
    int rc;

    cnet__tls_errmsg(reason, reason_size, "");
    if (!hostname || !cert)
        return CNET_ERR_INVALID_ARG_TYPE;
    rc = cnet__tls_check_identity(hostname, &cert->subject, cert->subjectaltname, &why);
    if (why)
        cnet__tls_errmsg(reason, reason_size, why);
    cnet__free(why);
    return rc;
}
