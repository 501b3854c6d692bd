/*
 * Secure contexts: tls.createSecureContext(options) over an SSL_CTX.
 *
 * The steps and their order are node's (lib/internal/tls/secure-context.js
 * and SecureContext::Init in crypto_context.cc): protocol versions, then
 * ciphers, the trusted CAs, the certificate chain, the key (after the
 * certificate, which it must match), the CRLs; every failure is reported
 * with the code and message node gives it. What node configures in the
 * context itself is kept: session cache "client | server | no internal" (so
 * resumption is by tickets), automatic chain building, and the session id
 * context a server needs to resume sessions with client certificates.
 * Beyond node: renegotiation is refused (SSL_OP_NO_RENEGOTIATION),
 * compression is off explicitly (SSL_OP_NO_COMPRESSION), and OpenSSL
 * releases its record buffers while a connection is idle.
 *
 * The system's CAs (ca-certificates) are parsed once into one X509_STORE
 * shared by every context that trusts them; a context with its own `ca`, or
 * with CRLs, has a store of its own.
 * All of it is our state: OpenSSL's global state is never touched.
 */
#include "tls/tls.h"

#include <cnet/openssl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* tls.DEFAULT_CIPHERS of node v20. */
static const char default_ciphers[] =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:"
    "DHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA384:"
    "ECDHE-RSA-AES256-SHA256:DHE-RSA-AES256-SHA256:HIGH:!aNULL:!eNULL:!EXPORT:!DES:!RC4:!MD5:"
    "!PSK:!SRP:!CAMELLIA";

const char *cnet_tls_version_name(cnet_tls_version_t version)
{
    switch (version) {
    case CNET_TLSV1:
        return "TLSv1";
    case CNET_TLSV1_1:
        return "TLSv1.1";
    case CNET_TLSV1_2:
        return "TLSv1.2";
    case CNET_TLSV1_3:
        return "TLSv1.3";
    default:
        return NULL;
    }
}

/* ---- the shared store of the system's CAs ----------------------------------- */

/*
 * Parsed on first use and kept for the life of the process, like node's
 * root store: a program that makes and drops contexts does not parse the
 * bundle (~150 certificates) each time. Every context that trusts the
 * system holds its own reference too (SSL_CTX_set1_cert_store).
 */
static pthread_mutex_t system_lock = PTHREAD_MUTEX_INITIALIZER;
static X509_STORE *system_store;

/* Sets the system store on @p ssl_ctx (loading it on first use). 0 or CNET_ENOMEM. */
static int system_store_attach(SSL_CTX *ssl_ctx)
{
    pthread_mutex_lock(&system_lock);
    if (!system_store) {
        system_store = X509_STORE_new();
        /* SSL_CTX_set_default_verify_paths: $SSL_CERT_FILE / $SSL_CERT_DIR or
         * OpenSSL's defaults (Debian: /usr/lib/ssl -> /etc/ssl/certs).
         * A missing bundle is not an error, only an empty store. */
        if (system_store)
            X509_STORE_set_default_paths(system_store);
        ERR_clear_error();
    }
    X509_STORE *store = system_store;
    pthread_mutex_unlock(&system_lock);
    if (!store)
        return CNET_ENOMEM;
    SSL_CTX_set1_cert_store(ssl_ctx, store);
    return 0;
}

/* ---- reading PEM ------------------------------------------------------------ */

typedef struct pem {
    const char *data;
    size_t len;
    char *owned; /* read from a file */
} pem_t;

/* Reads @p path whole; errors as node's fs.readFileSync reports them
 * ("ENOENT: no such file or directory, open 'x'", "EISDIR: ..., read" without the path). */
static int read_file(const char *path, pem_t *out, char *errmsg, size_t errmsg_size)
{
    struct stat st;
    size_t cap = 4096, len = 0;
    const char *syscall = "open";
    char *buf = NULL;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        goto fail;
    }
    syscall = "read";
    if (fstat(fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            rc = -EISDIR;
            goto fail;
        }
        if (st.st_size > 0)
            cap = (size_t)st.st_size + 1;
    }
    buf = cnet__malloc(cap);
    if (!buf) {
        rc = CNET_ENOMEM;
        goto fail;
    }
    for (;;) {
        if (len + 1 >= cap) {
            char *p = cnet__realloc(buf, cap * 2);
            if (!p) {
                rc = CNET_ENOMEM;
                goto fail;
            }
            buf = p;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    out->data = out->owned = buf;
    out->len = len;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    cnet__free(buf);
    if (errmsg && errmsg_size) {
        if (strcmp(syscall, "open") == 0)
            snprintf(errmsg, errmsg_size, "%s: %s, open '%s'", cnet_err_name(rc), cnet_strerror(rc),
                     path);
        else
            snprintf(errmsg, errmsg_size, "%s: %s, %s", cnet_err_name(rc), cnet_strerror(rc),
                     syscall);
    }
    return rc;
}

/* One PEM option: in memory (len 0: strlen) or from a file, not both. *out is empty when absent. */
static int load_pem(const char *data, size_t len, const char *file, pem_t *out, char *errmsg,
                    size_t errmsg_size)
{
    memset(out, 0, sizeof *out);
    if (data && file) {
        cnet__tls_errmsg(errmsg, errmsg_size,
                         "a PEM option was given both in memory and as a file");
        return CNET_ERR_INVALID_ARG_VALUE;
    }
    if (file)
        return read_file(file, out, errmsg, errmsg_size);
    if (data) {
        out->data = data;
        out->len = len ? len : strlen(data);
    }
    return 0;
}

static BIO *pem_bio(const pem_t *p)
{
    return BIO_new_mem_buf(p->data, p->len > INT_MAX ? INT_MAX : (int)p->len);
}

/* node's NoPasswordCallback: an encrypted certificate is never prompted for. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    return 0;
}

/* node's PasswordCallback: the passphrase, or an empty one. */
static int password(char *buf, int size, int rwflag, void *u)
{
    const char *pass = u;
    size_t n = pass ? strlen(pass) : 0;
    if (n > (size_t)size)
        return -1;
    memcpy(buf, pass ? pass : "", n);
    return (int)n;
}

/* ---- the steps --------------------------------------------------------------- */

/* An OpenSSL failure of a crypto call, named as node names it. */
static int crypto_error(char *errmsg, size_t errmsg_size)
{
    cnet__tls_error_t err = {0};
    int rc = cnet__tls_err_collect(CNET__TLS_NAMING_CRYPTO, CNET_ERR_OSSL_UNLISTED, &err);
    cnet__tls_errmsg(errmsg, errmsg_size, err.message ? err.message : cnet_strerror(rc));
    cnet__tls_error_clear(&err);
    return rc;
}

static int set_versions(SSL_CTX *ssl_ctx, const cnet_tls_context_opts_t *o, char *errmsg,
                        size_t errmsg_size)
{
    cnet_tls_version_t min = o->min_version ? o->min_version : CNET_TLSV1_2;
    cnet_tls_version_t max = o->max_version ? o->max_version : CNET_TLSV1_3;
    if (!cnet_tls_version_name(min) || !cnet_tls_version_name(max)) {
        if (errmsg && errmsg_size)
            snprintf(errmsg, errmsg_size, "0x%04x is not a valid %s TLS protocol version",
                     (unsigned)(cnet_tls_version_name(min) ? max : min),
                     cnet_tls_version_name(min) ? "maximum" : "minimum");
        return CNET_ERR_TLS_INVALID_PROTOCOL_VERSION;
    }
    if (!SSL_CTX_set_min_proto_version(ssl_ctx, (int)min) ||
        !SSL_CTX_set_max_proto_version(ssl_ctx, (int)max))
        return crypto_error(errmsg, errmsg_size);
    return 0;
}

/* processCiphers(): TLS_* entries are TLS 1.3 suites, the others OpenSSL's cipher list. */
static int set_ciphers(SSL_CTX *ssl_ctx, const cnet_tls_context_opts_t *o, char *errmsg,
                       size_t errmsg_size)
{
    const char *ciphers = o->ciphers && *o->ciphers ? o->ciphers : default_ciphers;
    size_t n = strlen(ciphers);
    char *list = cnet__malloc(n + 1), *suites = cnet__malloc(n + 1), *copy = cnet__strdup(ciphers);
    size_t nl = 0, ns = 0;
    int rc = 0;

    if (!list || !suites || !copy) {
        rc = CNET_ENOMEM;
        goto out;
    }
    list[0] = suites[0] = '\0';
    for (char *save = NULL, *tok = strtok_r(copy, ":", &save); tok;
         tok = strtok_r(NULL, ":", &save)) {
        bool tls13 = strncmp(tok, "TLS_", 4) == 0 || strncmp(tok, "!TLS_", 5) == 0;
        char *dst = tls13 ? suites : list;
        size_t *len = tls13 ? &ns : &nl;
        if (*len)
            dst[(*len)++] = ':';
        memcpy(dst + *len, tok, strlen(tok) + 1);
        *len += strlen(tok);
    }
    /* Nothing at all to negotiate with is refused (ERR_INVALID_ARG_VALUE). */
    if (nl == 0 && ns == 0 && !(o->ciphersuites && *o->ciphersuites)) {
        if (errmsg && errmsg_size)
            snprintf(errmsg, errmsg_size,
                     "The property 'options.ciphers' is invalid. Received '%s'", ciphers);
        rc = CNET_ERR_INVALID_ARG_VALUE;
        goto out;
    }
    /* Without TLS_* entries node leaves OpenSSL's TLS 1.3 suites; ours replace them. */
    if (o->ciphersuites ? !SSL_CTX_set_ciphersuites(ssl_ctx, o->ciphersuites)
                        : ns && !SSL_CTX_set_ciphersuites(ssl_ctx, suites)) {
        rc = crypto_error(errmsg, errmsg_size);
        goto out;
    }
    /* SecureContext::SetCiphers: an empty list only means "no TLS 1.2 ciphers". */
    if (!SSL_CTX_set_cipher_list(ssl_ctx, list)) {
        unsigned long err = ERR_peek_error();
        if (nl == 0 && ERR_GET_REASON(err) == SSL_R_NO_CIPHER_MATCH) {
            ERR_clear_error();
        } else {
            rc = crypto_error(errmsg, errmsg_size);
            goto out;
        }
    }
    if (nl == 0 && SSL_CTX_get_min_proto_version(ssl_ctx) < TLS1_3_VERSION &&
        (SSL_CTX_get_max_proto_version(ssl_ctx) == 0 ||
         SSL_CTX_get_max_proto_version(ssl_ctx) > TLS1_2_VERSION))
        SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_3_VERSION);
out:
    cnet__free(list);
    cnet__free(suites);
    cnet__free(copy);
    return rc;
}

/* addCACert: every certificate of the PEM (none is no error), also as a client CA name. */
static int add_ca(SSL_CTX *ssl_ctx, const pem_t *ca)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
    BIO *bio = pem_bio(ca);
    X509 *x;
    if (!bio)
        return CNET_ENOMEM;
    while ((x = PEM_read_bio_X509_AUX(bio, NULL, no_password, NULL))) {
        X509_STORE_add_cert(store, x);
        SSL_CTX_add_client_CA(ssl_ctx, x);
        X509_free(x);
    }
    BIO_free(bio);
    ERR_clear_error();
    return 0;
}

/*
 * node leaves SSL_MODE_NO_AUTO_CHAIN clear: a certificate given without its
 * chain is sent with the chain OpenSSL builds from the trust store, and
 * OpenSSL builds it again on every handshake (with the system store, a
 * lookup that lists /etc/ssl/certs each time). It is built here once, as
 * ssl_add_cert_chain() builds it, and set as the certificate's chain: the
 * same certificates go out, without the per-handshake search.
 * 0 or CNET_ENOMEM.
 */
static int prebuild_chain(SSL_CTX *c)
{
    X509 *leaf = SSL_CTX_get0_certificate(c);
    X509_STORE *store = SSL_CTX_get_cert_store(c);
    STACK_OF(X509) *have = NULL, *extra = NULL, *built, *rest;
    X509_STORE_CTX *xs;
    int rc = 0;

    if (!leaf || !store || (SSL_CTX_get_mode(c) & SSL_MODE_NO_AUTO_CHAIN))
        return 0;
    SSL_CTX_get0_chain_certs(c, &have);
    SSL_CTX_get_extra_chain_certs_only(c, &extra);
    if (have || extra)
        return 0; /* a chain was given: OpenSSL sends it as it is */
    xs = X509_STORE_CTX_new();
    rest = sk_X509_new_null();
    if (!xs || !rest || !X509_STORE_CTX_init(xs, store, leaf, NULL)) {
        rc = CNET_ENOMEM;
        goto out;
    }
    (void)X509_verify_cert(xs); /* only building: an incomplete chain is fine */
    ERR_clear_error();
    built = X509_STORE_CTX_get0_chain(xs);
    for (int i = 1; built && i < sk_X509_num(built); i++)
        if (!sk_X509_push(rest, sk_X509_value(built, i))) {
            rc = CNET_ENOMEM;
            goto out;
        }
    if (!SSL_CTX_set1_chain(c, rest)) /* up-refs what it keeps */
        rc = CNET_ENOMEM;
out:
    sk_X509_free(rest);
    X509_STORE_CTX_free(xs);
    ERR_clear_error();
    return rc;
}

/* SSL_CTX_use_certificate_chain (crypto_context.cc): the leaf, then the rest as its chain. */
static int use_cert_chain(SSL_CTX *ssl_ctx, const pem_t *cert, char *errmsg, size_t errmsg_size)
{
    BIO *bio = pem_bio(cert);
    X509 *leaf = NULL, *x;
    int rc = 0;

    if (!bio)
        return CNET_ENOMEM;
    leaf = PEM_read_bio_X509_AUX(bio, NULL, no_password, NULL);
    if (!leaf || !SSL_CTX_use_certificate(ssl_ctx, leaf)) {
        rc = crypto_error(errmsg, errmsg_size);
        goto out;
    }
    SSL_CTX_clear_chain_certs(ssl_ctx);
    while ((x = PEM_read_bio_X509(bio, NULL, no_password, NULL))) {
        if (!SSL_CTX_add0_chain_cert(ssl_ctx, x)) {
            X509_free(x);
            rc = crypto_error(errmsg, errmsg_size);
            goto out;
        }
    }
    /* The loop ends at the end of the input (no start line) or at an error. */
    unsigned long err = ERR_peek_last_error();
    if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)
        ERR_clear_error();
    else if (err)
        rc = crypto_error(errmsg, errmsg_size);
out:
    X509_free(leaf);
    BIO_free(bio);
    return rc;
}

static int use_key(SSL_CTX *ssl_ctx, const pem_t *key, const char *passphrase, char *errmsg,
                   size_t errmsg_size)
{
    BIO *bio = pem_bio(key);
    EVP_PKEY *pkey;
    int rc = 0;
    if (!bio)
        return CNET_ENOMEM;
    pkey = PEM_read_bio_PrivateKey(bio, NULL, password, (void *)passphrase);
    if (!pkey || !SSL_CTX_use_PrivateKey(ssl_ctx, pkey))
        rc = crypto_error(errmsg, errmsg_size);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    return rc;
}

/* addCRL: every CRL of the PEM, and CRLs are then required for the whole chain. */
static int add_crl(SSL_CTX *ssl_ctx, const pem_t *crl, char *errmsg, size_t errmsg_size)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
    BIO *bio = pem_bio(crl);
    X509_CRL *x;
    int n = 0;
    if (!bio)
        return CNET_ENOMEM;
    while ((x = PEM_read_bio_X509_CRL(bio, NULL, no_password, NULL))) {
        X509_STORE_add_crl(store, x);
        X509_CRL_free(x);
        n++;
    }
    BIO_free(bio);
    ERR_clear_error();
    if (n == 0) {
        cnet__tls_errmsg(errmsg, errmsg_size, "Failed to parse CRL");
        return CNET_ERR_CRYPTO_OPERATION_FAILED;
    }
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ssl_ctx),
                                X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    return 0;
}

int cnet__tls_alpn_wire(const char *const *names, unsigned char **out, size_t *out_len)
{
    size_t len = 0, i;
    *out = NULL;
    *out_len = 0;
    if (!names || !names[0])
        return 0;
    for (i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        if (n == 0)
            return CNET_ERR_INVALID_ARG_VALUE;
        if (n > 255)
            return CNET_ERR_OUT_OF_RANGE;
        len += 1 + n;
    }
    unsigned char *p = cnet__malloc(len);
    if (!p)
        return CNET_ENOMEM;
    *out = p;
    *out_len = len;
    for (i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        *p++ = (unsigned char)n;
        memcpy(p, names[i], n);
        p += n;
    }
    return 0;
}

static int set_alpn(cnet_tls_context_t *ctx, const char *const *names, char *errmsg,
                    size_t errmsg_size)
{
    int rc = cnet__tls_alpn_wire(names, &ctx->alpn, &ctx->alpn_len);
    if (rc == CNET_ERR_OUT_OF_RANGE)
        cnet__tls_errmsg(errmsg, errmsg_size,
                         "The byte length of a protocol exceeds the maximum length (255)");
    else if (rc == CNET_ERR_INVALID_ARG_VALUE)
        cnet__tls_errmsg(errmsg, errmsg_size, "An ALPN protocol name is empty");
    if (rc || !ctx->alpn)
        return rc;
    /* The client's offer; a server selects with the list (engine.c). 0 is success here. */
    if (SSL_CTX_set_alpn_protos(ctx->ssl_ctx, ctx->alpn, (unsigned)ctx->alpn_len) != 0)
        return crypto_error(errmsg, errmsg_size);
    return 0;
}

static void context_free(cnet_tls_context_t *ctx)
{
    SSL_CTX_free(ctx->ssl_ctx);
    BIO_meth_free(ctx->wire_method);
    cnet__free(ctx->alpn);
    cnet__free(ctx);
    ERR_clear_error();
}

/*
 * Server: a ticket that decrypted is used as it is. OpenSSL's own keys renew
 * every TLS 1.3 ticket (a resumed connection gets a new one); node's
 * TicketCompatibilityCallback never renews, so neither do we. Tickets that
 * did not decrypt keep OpenSSL's handling (a full handshake, new tickets).
 */
static SSL_TICKET_RETURN ticket_no_renew(SSL *ssl, SSL_SESSION *sess, const unsigned char *keyname,
                                         size_t keyname_len, SSL_TICKET_STATUS status, void *arg)
{
    (void)ssl, (void)sess, (void)keyname, (void)keyname_len, (void)arg;
    if (status == SSL_TICKET_SUCCESS || status == SSL_TICKET_SUCCESS_RENEW)
        return SSL_TICKET_RETURN_USE;
    return SSL_TICKET_RETURN_IGNORE_RENEW;
}

static int configure(cnet_tls_context_t *ctx, const cnet_tls_context_opts_t *o, char *errmsg,
                     size_t errmsg_size)
{
    SSL_CTX *c = ctx->ssl_ctx;
    pem_t key, cert, ca, crl;
    int rc;

    memset(&key, 0, sizeof key);
    cert = ca = crl = key;
    if ((rc = load_pem(o->key, o->key_len, o->key_file, &key, errmsg, errmsg_size)) ||
        (rc = load_pem(o->cert, o->cert_len, o->cert_file, &cert, errmsg, errmsg_size)) ||
        (rc = load_pem(o->ca, o->ca_len, o->ca_file, &ca, errmsg, errmsg_size)) ||
        (rc = load_pem(o->crl, o->crl_len, o->crl_file, &crl, errmsg, errmsg_size)))
        goto out;

    /* SecureContext::Init. */
    /* OpenSSL sets NO_COMPRESSION by default; said here so no build or config changes it. */
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    if (o->honor_cipher_order)
        SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (o->session_tickets == CNET_TLS_OFF) {
        SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(c, 0);
    }
    /* A resumed session gets no new ticket, as with node's ticket key callback. */
    SSL_CTX_set_session_ticket_cb(c, NULL, ticket_no_renew, NULL);
    SSL_CTX_clear_mode(c, SSL_MODE_NO_AUTO_CHAIN);
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_SERVER |
                                          SSL_SESS_CACHE_NO_INTERNAL |
                                          SSL_SESS_CACHE_NO_AUTO_CLEAR);
    SSL_CTX_set_session_id_context(c, (const unsigned char *)"cnet", 4);
    if (o->session_timeout)
        SSL_CTX_set_timeout(c, (long)o->session_timeout);
    if ((rc = set_versions(c, o, errmsg, errmsg_size)))
        goto out;

    /* configSecureContext: ciphers first (an @SECLEVEL in them affects what follows). */
    if ((rc = set_ciphers(c, o, errmsg, errmsg_size)))
        goto out;
    if (ca.data) {
        if ((rc = add_ca(c, &ca)))
            goto out;
    } else if (!crl.data) {
        if ((rc = system_store_attach(c)))
            goto out;
    } else {
        /* CRLs change the store: a private copy of the system's CAs (node's NewRootCertStore). */
        SSL_CTX_set_default_verify_paths(c);
        ERR_clear_error();
    }
    if (o->allow_partial_trust_chain)
        X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(c), X509_V_FLAG_PARTIAL_CHAIN);
    if (cert.data && (rc = use_cert_chain(c, &cert, errmsg, errmsg_size)))
        goto out;
    if (key.data && (rc = use_key(c, &key, o->passphrase, errmsg, errmsg_size)))
        goto out;
    if (crl.data && (rc = add_crl(c, &crl, errmsg, errmsg_size)))
        goto out;
    if ((rc = prebuild_chain(c)))
        goto out;
    if ((rc = set_alpn(ctx, o->alpn_protocols, errmsg, errmsg_size)))
        goto out;
    ctx->request_cert = o->request_cert;
    ctx->reject_unauthorized = o->reject_unauthorized != CNET_TLS_OFF;
    cnet__tls_engine_setup_ctx(c);
out:
    cnet__free(key.owned);
    cnet__free(cert.owned);
    cnet__free(ca.owned);
    cnet__free(crl.owned);
    return rc;
}

/* A failure that set no message (out of memory, mostly) gets the code's own text. */
static int with_message(int rc, char *errmsg, size_t errmsg_size)
{
    if (rc && errmsg && errmsg_size && !errmsg[0])
        cnet__tls_errmsg(errmsg, errmsg_size, cnet_strerror(rc));
    return rc;
}

int cnet_tls_context_new(const cnet_tls_context_opts_t *opts, cnet_tls_context_t **out,
                         char *errmsg, size_t errmsg_size)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *ctx;
    int rc;

    cnet__tls_errmsg(errmsg, errmsg_size, "");
    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    if (opts && (rc = cnet__opts_load(&o, sizeof o, opts, CNET__TLS_CONTEXT_OPTS_V1)))
        return rc;
    ctx = cnet__calloc(1, sizeof *ctx);
    if (!ctx)
        return with_message(CNET_ENOMEM, errmsg, errmsg_size);
    atomic_init(&ctx->refs, 1);
    ERR_clear_error();
    ctx->ssl_ctx = SSL_CTX_new(TLS_method());
    if (!ctx->ssl_ctx) {
        rc = crypto_error(errmsg, errmsg_size);
        cnet__free(ctx);
        return with_message(rc == CNET_ERR_OSSL_UNLISTED ? CNET_ENOMEM : rc, errmsg, errmsg_size);
    }
    ctx->wire_method = cnet__tls_wire_method_new();
    rc = ctx->wire_method ? configure(ctx, &o, errmsg, errmsg_size) : CNET_ENOMEM;
    if (rc) {
        context_free(ctx);
        return with_message(rc, errmsg, errmsg_size);
    }
    ERR_clear_error();
    *out = ctx;
    return 0;
}

cnet_tls_context_t *cnet_tls_context_retain(cnet_tls_context_t *ctx)
{
    if (ctx)
        atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
    return ctx;
}

void cnet_tls_context_release(cnet_tls_context_t *ctx)
{
    if (ctx && atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) == 1)
        context_free(ctx);
}

SSL_CTX *cnet_tls_context_get_ssl_ctx(cnet_tls_context_t *ctx)
{
    return ctx ? ctx->ssl_ctx : NULL;
}
