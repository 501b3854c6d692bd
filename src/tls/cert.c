/*
 * Certificates as node's getPeerCertificate() shows them (crypto_common.cc
 * X509ToObject, GetPeerCert), flattened into one cnet_tls_cert_t block:
 *
 *   [cert_t][subject entries][issuer entries][strings and DER]
 *
 * Every string is built into a growing arena first and addressed by offset,
 * then the block is allocated once and the pointers are fixed up, so a
 * certificate is one allocation and cnet_tls_cert_free() one free per link
 * of its issuer chain.
 */
#include "tls/tls.h"

#include <limits.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>

/* node's X509_NAME_FLAGS, with ", " (and " + ") where node has "\n" (and " + "). */
#define NAME_TEXT_FLAGS                                                          \
    (ASN1_STRFLGS_ESC_2253 | ASN1_STRFLGS_ESC_CTRL | ASN1_STRFLGS_UTF8_CONVERT | \
     XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN)

#define NONE ((size_t)-1)

typedef struct cert {
    cnet_tls_cert_t pub;
    struct cert *issuer; /* owned: the rest of the chain */
} cert_t;

/* ---- the arena ---------------------------------------------------------- */

typedef struct arena {
    char *p;
    size_t len, cap;
    bool oom;
} arena_t;

/* Makes room for @p n more bytes; returns their offset, or NONE. */
static size_t reserve(arena_t *a, size_t n)
{
    size_t off = a->len;
    if (a->oom)
        return NONE;
    if (a->len + n > a->cap) {
        size_t cap = a->cap ? a->cap : 1024;
        while (cap < a->len + n)
            cap *= 2;
        char *p = cnet__realloc(a->p, cap);
        if (!p) {
            a->oom = true;
            return NONE;
        }
        a->p = p;
        a->cap = cap;
    }
    a->len += n;
    return off;
}

/* Appends @p n bytes (and a NUL with @p nul); returns their offset, or NONE. */
static size_t put(arena_t *a, const void *data, size_t n, bool nul)
{
    size_t off = reserve(a, n + (nul ? 1 : 0));
    if (off == NONE)
        return NONE;
    if (n)
        memcpy(a->p + off, data, n);
    if (nul)
        a->p[off + n] = '\0';
    return off;
}

/* Appends without a NUL (pieces of one string); end the string with put(a, "", 0, true). */
static void append(arena_t *a, const void *data, size_t n)
{
    put(a, data, n, false);
}

static void appendf(arena_t *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void appendf(arena_t *a, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        append(a, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* What a memory BIO holds, as one string of the arena. */
static size_t put_bio(arena_t *a, BIO *bio)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    size_t off = put(a, data, n > 0 ? (size_t)n : 0, true);
    (void)BIO_reset(bio);
    return off;
}

/* ---- subjectaltname, as node prints it (PrintGeneralName) ---------------- */

static bool safe_altname(const unsigned char *s, size_t n, bool utf8)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\' || c == ',' || c == '\'')
            return false;
        if (utf8 ? (c < ' ' || c == 0x7f) : (c < ' ' || c > '~'))
            return false;
    }
    return true;
}

/* PrintAltName: as is when safe, else a JSON string with the prefix inside the quotes. */
static void print_altname(arena_t *a, const unsigned char *s, size_t n, bool utf8,
                          const char *prefix)
{
    static const char hex[] = "0123456789abcdef";
    if (safe_altname(s, n, utf8)) {
        if (prefix)
            appendf(a, "%s:", prefix);
        append(a, s, n);
        return;
    }
    append(a, "\"", 1);
    if (prefix)
        appendf(a, "%s:", prefix);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '\\') {
            append(a, "\\\\", 2);
        } else if (c == '"') {
            append(a, "\\\"", 2);
        } else if ((c >= ' ' && c != ',' && c <= '~') || (utf8 && (c & 0x80))) {
            append(a, &c, 1);
        } else {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f]};
            append(a, u, sizeof u);
        }
    }
    append(a, "\"", 1);
}

static void print_ia5(arena_t *a, const ASN1_STRING *s, const char *prefix)
{
    print_altname(a, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), false, prefix);
}

static void print_general_name(arena_t *a, const GENERAL_NAME *gen)
{
    char line[256];
    switch (gen->type) {
    case GEN_DNS:
        append(a, "DNS:", 4);
        print_ia5(a, gen->d.dNSName, NULL);
        break;
    case GEN_EMAIL:
        append(a, "email:", 6);
        print_ia5(a, gen->d.rfc822Name, NULL);
        break;
    case GEN_URI:
        append(a, "URI:", 4);
        print_ia5(a, gen->d.uniformResourceIdentifier, NULL);
        break;
    case GEN_DIRNAME: {
        /* RFC 2253 text, UTF-8 left alone for the JSON quoting (node's
         * kX509NameFlagsRFC2253WithinUtf8JSON). */
        BIO *tmp = BIO_new(BIO_s_mem());
        char *text = NULL;
        long n = 0;
        append(a, "DirName:", 8);
        if (tmp && X509_NAME_print_ex(tmp, gen->d.dirn, 0,
                                      XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB &
                                          ~ASN1_STRFLGS_ESC_CTRL) >= 0)
            n = BIO_get_mem_data(tmp, &text);
        if (n > 0)
            print_altname(a, (const unsigned char *)text, (size_t)n, true, NULL);
        BIO_free(tmp);
        break;
    }
    case GEN_IPADD: {
        const unsigned char *b = ASN1_STRING_get0_data(gen->d.ip);
        int len = ASN1_STRING_length(gen->d.ip);
        append(a, "IP Address:", 11);
        if (len == 4) {
            appendf(a, "%d.%d.%d.%d", b[0], b[1], b[2], b[3]);
        } else if (len == 16) {
            for (int j = 0; j < 8; j++)
                appendf(a, j == 0 ? "%X" : ":%X", (unsigned)((b[2 * j] << 8) | b[2 * j + 1]));
        } else {
            appendf(a, "<invalid length=%d>", len);
        }
        break;
    }
    case GEN_RID:
        i2t_ASN1_OBJECT(line, sizeof line, gen->d.rid);
        appendf(a, "Registered ID:%s", line);
        break;
    case GEN_OTHERNAME: {
        const char *prefix = NULL;
        bool unicode = true;
        switch (OBJ_obj2nid(gen->d.otherName->type_id)) {
        case NID_id_on_SmtpUTF8Mailbox:
            prefix = " SmtpUTF8Mailbox:";
            break;
        case NID_XmppAddr:
            prefix = " XmppAddr:";
            break;
        case NID_SRVName:
            prefix = " SRVName:";
            unicode = false;
            break;
        case NID_ms_upn:
            prefix = " UPN:";
            break;
        case NID_NAIRealm:
            prefix = " NAIRealm:";
            break;
        }
        const ASN1_TYPE *v = gen->d.otherName->value;
        int type = v ? v->type : -1;
        if (!prefix || (unicode && type != V_ASN1_UTF8STRING) ||
            (!unicode && type != V_ASN1_IA5STRING)) {
            append(a, "othername:<unsupported>", 23);
        } else {
            const ASN1_STRING *s = unicode ? v->value.utf8string : v->value.ia5string;
            append(a, "othername:", 10);
            print_altname(a, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), unicode,
                          prefix);
        }
        break;
    }
    case GEN_X400:
        append(a, "X400Name:<unsupported>", 22);
        break;
    case GEN_EDIPARTY:
        append(a, "EdiPartyName:<unsupported>", 26);
        break;
    }
}

/* The subjectaltname string at the end of @p a; NONE without the extension or if undecodable. */
static size_t put_altnames(arena_t *a, X509 *x509)
{
    int idx = X509_get_ext_by_NID(x509, NID_subject_alt_name, -1);
    if (idx < 0)
        return NONE;
    GENERAL_NAMES *names = X509V3_EXT_d2i(X509_get_ext(x509, idx));
    if (!names)
        return NONE; /* node: null */
    size_t off = a->len;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        if (i)
            append(a, ", ", 2);
        print_general_name(a, sk_GENERAL_NAME_value(names, i));
    }
    put(a, "", 0, true);
    GENERAL_NAMES_free(names);
    return a->oom ? NONE : off;
}

/* ---- names ----------------------------------------------------------------- */

typedef struct name_offs {
    size_t *kv; /* key, value offset pairs */
    size_t count;
    size_t text;
} name_offs_t;

/* GetX509NameObject: key = short name or dotted OID, value = UTF-8; then the one-line text. */
static int put_name(arena_t *a, BIO *bio, const X509_NAME *name, name_offs_t *out)
{
    int n = X509_NAME_entry_count(name);
    out->count = 0;
    out->kv = n > 0 ? cnet__malloc(2 * (size_t)n * sizeof *out->kv) : NULL;
    if (n > 0 && !out->kv)
        return CNET_ENOMEM;
    for (int i = 0; i < n; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT *type = X509_NAME_ENTRY_get_object(e);
        int nid = OBJ_obj2nid(type);
        char oid[80];
        const char *key = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
        unsigned char *value;
        int len = ASN1_STRING_to_UTF8(&value, X509_NAME_ENTRY_get_data(e));
        if (len < 0)
            continue; /* node drops the whole object; an entry less is closer */
        if (!key) {
            OBJ_obj2txt(oid, sizeof oid, type, 1);
            key = oid;
        }
        out->kv[2 * out->count] = put(a, key, strlen(key), true);
        out->kv[2 * out->count + 1] = put(a, value, (size_t)len, true);
        out->count++;
        OPENSSL_free(value);
    }
    if (X509_NAME_print_ex(bio, name, 0, NAME_TEXT_FLAGS) < 0)
        (void)BIO_reset(bio);
    out->text = put_bio(a, bio);
    return a->oom ? CNET_ENOMEM : 0;
}

/* ---- the rest -------------------------------------------------------------- */

static size_t put_fingerprint(arena_t *a, X509 *x509, const EVP_MD *md)
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!md || !X509_digest(x509, md, digest, &n) || n == 0)
        return put(a, "", 0, true);
    size_t off = a->len;
    for (unsigned i = 0; i < n; i++) {
        char b[3] = {hex[digest[i] >> 4], hex[digest[i] & 0x0f], ':'};
        append(a, b, i + 1 < n ? 3 : 2);
    }
    put(a, "", 0, true);
    return a->oom ? NONE : off;
}

static size_t put_serial(arena_t *a, X509 *x509)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    size_t off = put(a, hex ? hex : "", hex ? strlen(hex) : 0, true);
    OPENSSL_free(hex);
    BN_free(bn);
    return off;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int64_t epoch_of(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    return days_from_civil(tm.tm_year + 1900LL, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) *
               86400 +
           tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

static size_t put_time(arena_t *a, BIO *bio, const ASN1_TIME *t)
{
    if (!t || !ASN1_TIME_print(bio, t))
        (void)BIO_reset(bio);
    return put_bio(a, bio);
}

static const char *at(const char *base, size_t off)
{
    return off == NONE ? NULL : base + off;
}

/* One certificate, without its chain. */
static int build(X509 *x509, cert_t **out)
{
    arena_t a = {0};
    name_offs_t subj = {0}, iss = {0};
    BIO *bio = BIO_new(BIO_s_mem());
    size_t san, from, to, serial, fp1, fp256, fp512, raw;
    int rc = CNET_ENOMEM, raw_len;
    cert_t *c = NULL;

    *out = NULL;
    if (!bio)
        goto out;
    if (put_name(&a, bio, X509_get_subject_name(x509), &subj) ||
        put_name(&a, bio, X509_get_issuer_name(x509), &iss))
        goto out;
    san = put_altnames(&a, x509);
    from = put_time(&a, bio, X509_get0_notBefore(x509));
    to = put_time(&a, bio, X509_get0_notAfter(x509));
    serial = put_serial(&a, x509);
    fp1 = put_fingerprint(&a, x509, EVP_sha1());
    fp256 = put_fingerprint(&a, x509, EVP_sha256());
    fp512 = put_fingerprint(&a, x509, EVP_sha512());
    raw_len = i2d_X509(x509, NULL);
    raw = raw_len > 0 ? reserve(&a, (size_t)raw_len) : NONE;
    if (raw != NONE) {
        unsigned char *p = (unsigned char *)a.p + raw;
        i2d_X509(x509, &p);
    }
    if (a.oom)
        goto out;

    size_t nent = subj.count + iss.count;
    size_t size = sizeof *c + nent * sizeof(cnet_tls_name_entry_t) + a.len;
    c = cnet__calloc(1, size);
    if (!c)
        goto out;
    cnet_tls_name_entry_t *ent = (cnet_tls_name_entry_t *)(c + 1);
    char *base = (char *)(ent + nent);
    memcpy(base, a.p, a.len);

    for (size_t i = 0; i < subj.count; i++) {
        ent[i].key = base + subj.kv[2 * i];
        ent[i].value = base + subj.kv[2 * i + 1];
    }
    for (size_t i = 0; i < iss.count; i++) {
        ent[subj.count + i].key = base + iss.kv[2 * i];
        ent[subj.count + i].value = base + iss.kv[2 * i + 1];
    }
    c->pub.subject = (cnet_tls_name_t){subj.count ? ent : NULL, subj.count, base + subj.text};
    c->pub.issuer =
        (cnet_tls_name_t){iss.count ? ent + subj.count : NULL, iss.count, base + iss.text};
    c->pub.subjectaltname = at(base, san);
    c->pub.ca = X509_check_ca(x509) == 1;
    EVP_PKEY *pkey = X509_get0_pubkey(x509);
    if (pkey &&
        (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA || EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC))
        c->pub.bits = EVP_PKEY_get_bits(pkey);
    c->pub.valid_from = at(base, from);
    c->pub.valid_to = at(base, to);
    c->pub.not_before = epoch_of(X509_get0_notBefore(x509));
    c->pub.not_after = epoch_of(X509_get0_notAfter(x509));
    c->pub.serial_number = at(base, serial);
    c->pub.fingerprint = at(base, fp1);
    c->pub.fingerprint256 = at(base, fp256);
    c->pub.fingerprint512 = at(base, fp512);
    c->pub.raw = raw != NONE ? (const unsigned char *)base + raw : NULL;
    c->pub.raw_len = raw != NONE ? (size_t)raw_len : 0;
    *out = c;
    rc = 0;
out:
    cnet__free(subj.kv);
    cnet__free(iss.kv);
    cnet__free(a.p);
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

void cnet_tls_cert_free(const cnet_tls_cert_t *cert)
{
    cert_t *c = (cert_t *)cert;
    while (c) {
        cert_t *next = c->issuer;
        cnet__free(c);
        c = next;
    }
}

int cnet__tls_cert_from_x509(X509 *x509, const cnet_tls_cert_t **out)
{
    cert_t *c;
    int rc = build(x509, &c);
    *out = rc ? NULL : &c->pub;
    return rc;
}

/* Appends the certificate of @p x509 to the chain whose last link is *tail. */
static int link_issuer(cert_t **tail, X509 *x509)
{
    cert_t *c;
    int rc = build(x509, &c);
    if (rc)
        return rc;
    (*tail)->issuer = c;
    (*tail)->pub.issuer_certificate = &c->pub;
    *tail = c;
    return 0;
}

/* SSL_CTX_get_issuer (crypto_common.cc): the issuer of @p cert in the context's store. */
static X509 *store_issuer(SSL_CTX *ctx, X509 *cert)
{
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();
    X509 *issuer = NULL;
    if (sctx && X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(ctx), NULL, NULL) == 1 &&
        X509_STORE_CTX_get1_issuer(&issuer, sctx, cert) != 1)
        issuer = NULL;
    X509_STORE_CTX_free(sctx);
    return issuer;
}

int cnet__tls_cert_from_ssl(SSL *ssl, bool detailed, const cnet_tls_cert_t **out)
{
    /* On a client the chain holds the peer's certificate, on a server it does not. */
    X509 *peer = SSL_is_server(ssl) ? SSL_get1_peer_certificate(ssl) : NULL;
    STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ssl);
    STACK_OF(X509) *certs = NULL;
    X509 *cur = NULL;
    cert_t *head = NULL, *tail;
    int rc = CNET_ENOMEM;

    *out = NULL;
    if (!peer && sk_X509_num(sent) <= 0)
        return 0;
    if (!detailed) {
        rc = build(peer ? peer : sk_X509_value(sent, 0), &head);
        X509_free(peer);
        *out = rc ? NULL : &head->pub;
        return rc;
    }

    /* The peer's certificates, leaf first (CloneSSLCerts). */
    certs = sk_X509_new_null();
    if (!certs)
        goto out;
    if (peer) {
        if (!sk_X509_push(certs, peer))
            goto out;
        peer = NULL;
    }
    for (int i = 0; i < sk_X509_num(sent); i++) {
        X509 *x = sk_X509_value(sent, i);
        if (!sk_X509_push(certs, x))
            goto out;
        X509_up_ref(x);
    }
    cur = sk_X509_shift(certs);
    rc = build(cur, &head);
    if (rc)
        goto out;
    tail = head;

    /* AddIssuerChainToObject: issuers among what the peer sent. */
    for (;;) {
        int i, n = sk_X509_num(certs);
        for (i = 0; i < n; i++)
            if (X509_check_issued(sk_X509_value(certs, i), cur) == X509_V_OK)
                break;
        if (i == n)
            break;
        X509 *ca = sk_X509_delete(certs, i);
        rc = link_issuer(&tail, ca);
        X509_free(cur);
        cur = ca;
        if (rc)
            goto out;
    }
    /* GetLastIssuedCert: then from our trust store, up to a self-issued root. */
    while (X509_check_issued(cur, cur) != X509_V_OK) {
        X509 *ca = store_issuer(SSL_get_SSL_CTX(ssl), cur);
        if (!ca)
            break;
        rc = link_issuer(&tail, ca);
        bool same = ca == cur;
        X509_free(cur);
        cur = ca;
        if (rc)
            goto out;
        if (same)
            break;
    }
    rc = 0;
out:
    X509_free(cur);
    X509_free(peer);
    sk_X509_pop_free(certs, X509_free);
    ERR_clear_error();
    if (rc) {
        cnet_tls_cert_free(head ? &head->pub : NULL);
        return rc;
    }
    *out = &head->pub;
    return 0;
}

const char *cnet_tls_name_get(const cnet_tls_name_t *name, const char *key)
{
    if (!name || !key)
        return NULL;
    for (size_t i = 0; i < name->count; i++)
        if (strcmp(name->entries[i].key, key) == 0)
            return name->entries[i].value;
    return NULL;
}

int cnet_tls_cert_parse(const void *data, size_t len, const cnet_tls_cert_t **out, char *errmsg,
                        size_t errmsg_size)
{
    cnet__tls_error_t err = {0};
    X509 *x509 = NULL;
    BIO *bio;
    int rc;

    cnet__tls_errmsg(errmsg, errmsg_size, "");
    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    if (!data)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (len == 0)
        len = strlen(data);
    if (len > INT_MAX)
        return CNET_ERR_OUT_OF_RANGE;
    ERR_clear_error();
    /* X509Certificate::Parse: PEM first, then DER, reporting PEM's error. */
    bio = BIO_new_mem_buf(data, (int)len);
    if (!bio)
        return CNET_ENOMEM;
    x509 = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
    if (!x509) {
        ERR_set_mark();
        const unsigned char *p = data;
        x509 = d2i_X509(NULL, &p, (long)len);
        ERR_pop_to_mark();
    }
    BIO_free(bio);
    if (!x509) {
        rc = cnet__tls_err_collect(CNET__TLS_NAMING_CRYPTO, CNET_ERR_OSSL_UNLISTED, &err);
        cnet__tls_errmsg(errmsg, errmsg_size, err.message);
        cnet__tls_error_clear(&err);
        return rc;
    }
    ERR_clear_error();
    rc = cnet__tls_cert_from_x509(x509, out);
    X509_free(x509);
    return rc;
}
