/*
 * TLS test certificates, made in memory with OpenSSL's API at the start of
 * each test run: nothing is checked in and no openssl command is needed.
 * Keys are EC P-256 (fast to make, also under valgrind).
 *
 *   tls_pki_make(&pki)  a small PKI (below), every item as PEM text
 *   tls_make_cert()     one certificate from a tls_cert_spec_t, for cases
 *                       with unusual names (the differential tests)
 *
 * The PKI:
 *   ca          self-signed root, CA:TRUE              "cnet Test Root CA"
 *   inter       intermediate, signed by ca, CA:TRUE    "cnet Test Intermediate"
 *   server      leaf signed by inter: CN=localhost, DNS:localhost,
 *               DNS:*.example.com, IP:127.0.0.1, IP:::1 (chain: server + inter)
 *   wronghost   leaf signed by inter: DNS:wrong.example.org
 *   expired     leaf signed by inter, notAfter yesterday (DNS:localhost)
 *   notyet      leaf signed by inter, notBefore tomorrow (DNS:localhost)
 *   selfsigned  self-signed leaf, CN=localhost, DNS:localhost
 *   sni         leaf signed by inter: DNS:sni.example.com
 *   revoked     leaf signed by inter (DNS:localhost), listed in inter's CRL
 *   client      leaf signed by ca: CN=client, extendedKeyUsage clientAuth
 *   crl         ca's CRL (empty) + inter's CRL (revoking `revoked`)
 * Every leaf of inter is served with the chain leaf + inter (*_chain).
 */
#ifndef CNET_TEST_TLS_FIXTURES_H
#define CNET_TEST_TLS_FIXTURES_H

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_FIX_CHECK(expr)                                                     \
    do {                                                                        \
        if (!(expr)) {                                                          \
            fprintf(stderr, "%s:%d: fixture: %s\n", __FILE__, __LINE__, #expr); \
            ERR_print_errors_fp(stderr);                                        \
            abort();                                                            \
        }                                                                       \
    } while (0)

/* One subjectAltName entry: type GEN_DNS, GEN_EMAIL, GEN_URI (value, len; 0 means strlen),
 * GEN_IPADD (value: 4 or 16 raw bytes, or another length for a broken one), GEN_DIRNAME
 * (value: "C=US/O=x" style), GEN_RID (value: an OID). */
typedef struct tls_san {
    int type;
    const char *value;
    size_t len;
} tls_san_t;

/* A subject attribute: key ("CN", "O", or an OID), UTF-8 value; multi adds it to the
 * previous RDN (a multi-valued RDN). */
typedef struct tls_attr {
    const char *key;
    const char *value;
    int multi;
} tls_attr_t;

typedef struct tls_cert_spec {
    const tls_attr_t *subject; /* terminated by a NULL key */
    const tls_san_t *san;      /* terminated by type 0; NULL: no extension */
    int empty_san;             /* an extension with no names */
    long not_before_days;      /* relative to now; 0 means -1 (yesterday) */
    long not_after_days;       /* relative to now; 0 means 3650 */
    int ca;                    /* basicConstraints CA:TRUE */
    int client_auth;           /* extendedKeyUsage clientAuth */
    long serial;               /* 0: random */
} tls_cert_spec_t;

static inline EVP_PKEY *tls_make_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    TLS_FIX_CHECK(k);
    return k;
}

static inline char *tls_bio_string(BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *s = malloc((size_t)n + 1);
    TLS_FIX_CHECK(s);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(b);
    return s;
}

static inline char *tls_cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    TLS_FIX_CHECK(b && PEM_write_bio_X509(b, x));
    return tls_bio_string(b);
}

static inline char *tls_key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    TLS_FIX_CHECK(b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL));
    return tls_bio_string(b);
}

/* The key encrypted with AES-256 under @p pass (PKCS#8). */
static inline char *tls_key_pem_encrypted(EVP_PKEY *k, const char *pass)
{
    BIO *b = BIO_new(BIO_s_mem());
    TLS_FIX_CHECK(
        b && PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), NULL, 0, NULL, (void *)pass));
    return tls_bio_string(b);
}

static inline char *tls_concat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    TLS_FIX_CHECK(s);
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

static inline void tls_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    TLS_FIX_CHECK(ext && X509_add_ext(x, ext, -1));
    X509_EXTENSION_free(ext);
}

static inline X509_NAME *tls_dirname(const char *spec)
{
    /* "C=US/O=x/CN=y" */
    X509_NAME *n = X509_NAME_new();
    char *copy = strdup(spec), *save = NULL;
    TLS_FIX_CHECK(n && copy);
    for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(tok, '=');
        TLS_FIX_CHECK(eq);
        *eq = '\0';
        TLS_FIX_CHECK(
            X509_NAME_add_entry_by_txt(n, tok, MBSTRING_UTF8, (unsigned char *)eq + 1, -1, -1, 0));
    }
    free(copy);
    return n;
}

static inline void tls_add_san(X509 *x, const tls_cert_spec_t *spec)
{
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    TLS_FIX_CHECK(names);
    for (const tls_san_t *s = spec->san; s && s->type; s++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        size_t len = s->len ? s->len : strlen(s->value);
        TLS_FIX_CHECK(g);
        switch (s->type) {
        case GEN_DNS:
        case GEN_EMAIL:
        case GEN_URI: {
            ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
            TLS_FIX_CHECK(ia5 && ASN1_STRING_set(ia5, s->value, (int)len));
            GENERAL_NAME_set0_value(g, s->type, ia5);
            break;
        }
        case GEN_IPADD: {
            ASN1_OCTET_STRING *ip = ASN1_OCTET_STRING_new();
            TLS_FIX_CHECK(ip &&
                          ASN1_OCTET_STRING_set(ip, (const unsigned char *)s->value, (int)len));
            GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
            break;
        }
        case GEN_DIRNAME:
            GENERAL_NAME_set0_value(g, GEN_DIRNAME, tls_dirname(s->value));
            break;
        case GEN_RID: {
            ASN1_OBJECT *o = OBJ_txt2obj(s->value, 1);
            TLS_FIX_CHECK(o);
            GENERAL_NAME_set0_value(g, GEN_RID, o);
            break;
        }
        default:
            TLS_FIX_CHECK(!"unknown SAN type");
        }
        TLS_FIX_CHECK(sk_GENERAL_NAME_push(names, g));
    }
    TLS_FIX_CHECK(X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT));
    GENERAL_NAMES_free(names);
}

/* A certificate for @p key, signed by @p issuer_key (itself when @p issuer is NULL). */
static inline X509 *tls_make_cert(const tls_cert_spec_t *spec, EVP_PKEY *key, X509 *issuer,
                                  EVP_PKEY *issuer_key)
{
    static long next_serial = 0x1000;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    TLS_FIX_CHECK(x && name);
    TLS_FIX_CHECK(X509_set_version(x, 2));
    TLS_FIX_CHECK(
        ASN1_INTEGER_set(X509_get_serialNumber(x), spec->serial ? spec->serial : next_serial++));
    long nb = spec->not_before_days ? spec->not_before_days : -1;
    long na = spec->not_after_days ? spec->not_after_days : 3650;
    TLS_FIX_CHECK(X509_gmtime_adj(X509_getm_notBefore(x), nb * 86400L));
    TLS_FIX_CHECK(X509_gmtime_adj(X509_getm_notAfter(x), na * 86400L));
    for (const tls_attr_t *a = spec->subject; a && a->key; a++)
        TLS_FIX_CHECK(X509_NAME_add_entry_by_txt(name, a->key, MBSTRING_UTF8,
                                                 (const unsigned char *)a->value, -1, -1,
                                                 a->multi ? 1 : 0));
    TLS_FIX_CHECK(X509_set_subject_name(x, name));
    TLS_FIX_CHECK(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name));
    TLS_FIX_CHECK(X509_set_pubkey(x, key));
    X509 *signer = issuer ? issuer : x;
    if (spec->ca) {
        tls_add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
        tls_add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
    } else {
        tls_add_ext(x, signer, NID_basic_constraints, "CA:FALSE");
    }
    tls_add_ext(x, signer, NID_subject_key_identifier, "hash");
    tls_add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
    if (spec->client_auth)
        tls_add_ext(x, signer, NID_ext_key_usage, "clientAuth");
    if (spec->san || spec->empty_san)
        tls_add_san(x, spec);
    TLS_FIX_CHECK(X509_sign(x, issuer ? issuer_key : key, EVP_sha256()));
    X509_NAME_free(name);
    return x;
}

/* A CRL of @p issuer revoking @p revoked (may be NULL). */
static inline char *tls_make_crl(X509 *issuer, EVP_PKEY *issuer_key, X509 *revoked)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    TLS_FIX_CHECK(crl && t);
    TLS_FIX_CHECK(X509_CRL_set_version(crl, 1));
    TLS_FIX_CHECK(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)));
    TLS_FIX_CHECK(X509_gmtime_adj(t, -86400L));
    TLS_FIX_CHECK(X509_CRL_set1_lastUpdate(crl, t));
    TLS_FIX_CHECK(X509_gmtime_adj(t, 30 * 86400L));
    TLS_FIX_CHECK(X509_CRL_set1_nextUpdate(crl, t));
    if (revoked) {
        X509_REVOKED *r = X509_REVOKED_new();
        TLS_FIX_CHECK(r);
        TLS_FIX_CHECK(X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked)));
        TLS_FIX_CHECK(X509_gmtime_adj(t, -3600L));
        TLS_FIX_CHECK(X509_REVOKED_set_revocationDate(r, t));
        TLS_FIX_CHECK(X509_CRL_add0_revoked(crl, r));
    }
    TLS_FIX_CHECK(X509_CRL_sort(crl));
    TLS_FIX_CHECK(X509_CRL_sign(crl, issuer_key, EVP_sha256()));
    BIO *b = BIO_new(BIO_s_mem());
    TLS_FIX_CHECK(b && PEM_write_bio_X509_CRL(b, crl));
    ASN1_TIME_free(t);
    X509_CRL_free(crl);
    return tls_bio_string(b);
}

typedef struct tls_pki {
    char *ca_cert, *ca_key;
    char *inter_cert, *inter_key;
    char *server_cert, *server_key, *server_chain;
    char *wronghost_chain, *expired_chain, *notyet_chain, *sni_chain, *revoked_chain;
    char *selfsigned_cert, *selfsigned_key;
    char *client_cert, *client_key;
    char *crl;
    char *leaf_key; /* the key of every leaf signed by inter */
} tls_pki_t;

static inline void tls_pki_make(tls_pki_t *p)
{
    static const tls_attr_t ca_name[] = {{"O", "cnet", 0}, {"CN", "cnet Test Root CA", 0}, {0}};
    static const tls_attr_t inter_name[] = {
        {"O", "cnet", 0}, {"CN", "cnet Test Intermediate", 0}, {0}};
    static const tls_attr_t localhost[] = {
        {"C", "US", 0}, {"O", "cnet", 0}, {"CN", "localhost", 0}, {0}};
    static const tls_attr_t client_name[] = {{"CN", "client", 0}, {0}};
    static const tls_san_t server_san[] = {{GEN_DNS, "localhost", 0},
                                           {GEN_DNS, "*.example.com", 0},
                                           {GEN_IPADD, "\x7f\x00\x00\x01", 4},
                                           {GEN_IPADD, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16},
                                           {0}};
    static const tls_san_t localhost_san[] = {{GEN_DNS, "localhost", 0}, {0}};
    static const tls_san_t wrong_san[] = {{GEN_DNS, "wrong.example.org", 0}, {0}};
    static const tls_san_t sni_san[] = {{GEN_DNS, "sni.example.com", 0}, {0}};

    EVP_PKEY *ca_key = tls_make_key(), *inter_key = tls_make_key(), *leaf_key = tls_make_key();
    EVP_PKEY *ss_key = tls_make_key(), *client_key = tls_make_key();
    tls_cert_spec_t s = {0};

    memset(p, 0, sizeof *p);
    s.subject = ca_name;
    s.ca = 1;
    X509 *ca = tls_make_cert(&s, ca_key, NULL, NULL);
    s.subject = inter_name;
    X509 *inter = tls_make_cert(&s, inter_key, ca, ca_key);
    p->ca_cert = tls_cert_pem(ca);
    p->ca_key = tls_key_pem(ca_key);
    p->inter_cert = tls_cert_pem(inter);
    p->inter_key = tls_key_pem(inter_key);
    p->leaf_key = tls_key_pem(leaf_key);

    memset(&s, 0, sizeof s);
    s.subject = localhost;
    s.san = server_san;
    X509 *x = tls_make_cert(&s, leaf_key, inter, inter_key);
    p->server_cert = tls_cert_pem(x);
    p->server_key = tls_key_pem(leaf_key);
    p->server_chain = tls_concat(p->server_cert, p->inter_cert);
    X509_free(x);

#define TLS_FIX_LEAF(field, san_list, nb, na)                    \
    do {                                                         \
        tls_cert_spec_t l = {0};                                 \
        l.subject = localhost;                                   \
        l.san = san_list;                                        \
        l.not_before_days = nb;                                  \
        l.not_after_days = na;                                   \
        X509 *c = tls_make_cert(&l, leaf_key, inter, inter_key); \
        char *pem = tls_cert_pem(c);                             \
        p->field = tls_concat(pem, p->inter_cert);               \
        free(pem);                                               \
        X509_free(c);                                            \
    } while (0)
    TLS_FIX_LEAF(wronghost_chain, wrong_san, 0, 0);
    TLS_FIX_LEAF(expired_chain, localhost_san, -30, -1);
    TLS_FIX_LEAF(notyet_chain, localhost_san, 1, 30);
    TLS_FIX_LEAF(sni_chain, sni_san, 0, 0);
#undef TLS_FIX_LEAF

    memset(&s, 0, sizeof s);
    s.subject = localhost;
    s.san = localhost_san;
    X509 *revoked = tls_make_cert(&s, leaf_key, inter, inter_key);
    char *pem = tls_cert_pem(revoked);
    p->revoked_chain = tls_concat(pem, p->inter_cert);
    free(pem);

    x = tls_make_cert(&s, ss_key, NULL, NULL);
    p->selfsigned_cert = tls_cert_pem(x);
    p->selfsigned_key = tls_key_pem(ss_key);
    X509_free(x);

    memset(&s, 0, sizeof s);
    s.subject = client_name;
    s.client_auth = 1;
    x = tls_make_cert(&s, client_key, ca, ca_key);
    p->client_cert = tls_cert_pem(x);
    p->client_key = tls_key_pem(client_key);
    X509_free(x);

    char *crl_ca = tls_make_crl(ca, ca_key, NULL);
    char *crl_inter = tls_make_crl(inter, inter_key, revoked);
    p->crl = tls_concat(crl_ca, crl_inter);
    free(crl_ca);
    free(crl_inter);

    X509_free(revoked);
    X509_free(ca);
    X509_free(inter);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(inter_key);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(ss_key);
    EVP_PKEY_free(client_key);
    ERR_clear_error();
}

static inline void tls_pki_free(tls_pki_t *p)
{
    char **fields[] = {&p->ca_cert,
                       &p->ca_key,
                       &p->inter_cert,
                       &p->inter_key,
                       &p->server_cert,
                       &p->server_key,
                       &p->server_chain,
                       &p->wronghost_chain,
                       &p->expired_chain,
                       &p->notyet_chain,
                       &p->sni_chain,
                       &p->revoked_chain,
                       &p->selfsigned_cert,
                       &p->selfsigned_key,
                       &p->client_cert,
                       &p->client_key,
                       &p->crl,
                       &p->leaf_key};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

/* Writes @p text to @p dir/@p name; returns the path (malloc'd). */
static inline char *tls_write_file(const char *dir, const char *name, const char *text)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    TLS_FIX_CHECK(path);
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    TLS_FIX_CHECK(f);
    TLS_FIX_CHECK(fwrite(text, 1, strlen(text), f) == strlen(text));
    TLS_FIX_CHECK(fclose(f) == 0);
    return path;
}

#endif
