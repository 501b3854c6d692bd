/*
 * OpenSSL's error queue as node reports it.
 *
 * Node takes the earliest error of the queue and names it from its reason
 * string: "wrong version number" becomes ERR_SSL_WRONG_VERSION_NUMBER on a
 * TLS connection (src/crypto/crypto_tls.cc), and
 * ERR_OSSL_<LIB>_<REASON> for crypto calls such as tls.createSecureContext
 * (crypto_util.cc, Decorate), where <LIB>_ is left out for the libraries
 * node does not list and for SSL itself. The message is OpenSSL's text:
 * ERR_error_string_n() for crypto calls ("error:0480006C:PEM
 * routines::no start line"); for a connection node prints the whole queue
 * with ERR_print_errors(), whose lines start with a thread id and end with a
 * source file and line, so we keep the stable middle of its first line
 * ("error:0A00010B:SSL routines:ssl3_get_record:wrong version number").
 */
#include "tls/tls.h"

#include <ctype.h>
#include <openssl/err.h>
#include <stdio.h>

static const struct {
    const char *name;
    int code;
} ossl_names[] = {
#define CNET__TLS_NAME(name, value, msg) {#name, (value)},
    CNET_TLS_OSSL_ERR_MAP(CNET__TLS_NAME)
#undef CNET__TLS_NAME
};

int cnet__tls_err_lookup(const char *name)
{
    for (size_t i = 0; i < CNET__ARRAY_SIZE(ossl_names); i++)
        if (strcmp(ossl_names[i].name, name) == 0)
            return ossl_names[i].code;
    return 0;
}

void cnet__tls_errmsg(char *buf, size_t size, const char *msg)
{
    if (buf && size)
        snprintf(buf, size, "%s", msg ? msg : "");
}

/* The library prefix node puts in crypto error codes (Decorate's OSSL_ERROR_CODES_MAP). */
static const char *lib_prefix(int lib)
{
    switch (lib) {
#define CNET__LIB(name)  \
    case ERR_LIB_##name: \
        return #name "_";
        CNET__LIB(SYS)
        CNET__LIB(BN)
        CNET__LIB(RSA)
        CNET__LIB(DH)
        CNET__LIB(EVP)
        CNET__LIB(BUF)
        CNET__LIB(OBJ)
        CNET__LIB(PEM)
        CNET__LIB(DSA)
        CNET__LIB(X509)
        CNET__LIB(ASN1)
        CNET__LIB(CONF)
        CNET__LIB(CRYPTO)
        CNET__LIB(EC)
        CNET__LIB(BIO)
        CNET__LIB(PKCS7)
        CNET__LIB(X509V3)
        CNET__LIB(PKCS12)
        CNET__LIB(RAND)
        CNET__LIB(DSO)
        CNET__LIB(ENGINE)
        CNET__LIB(OCSP)
        CNET__LIB(UI)
        CNET__LIB(COMP)
        CNET__LIB(ECDSA)
        CNET__LIB(ECDH)
        CNET__LIB(OSSL_STORE)
        CNET__LIB(FIPS)
        CNET__LIB(CMS)
        CNET__LIB(TS)
        CNET__LIB(HMAC)
        CNET__LIB(CT)
        CNET__LIB(ASYNC)
        CNET__LIB(KDF)
        CNET__LIB(SM2)
        CNET__LIB(USER)
#undef CNET__LIB
    default:
        return "";
    }
}

/* node's code for an error: "ERR_" + prefix + reason upper-cased, ' ' -> '_'. */
static void node_code(int naming, unsigned long err, const char *reason, char *out, size_t size)
{
    size_t n;
    if (naming == CNET__TLS_NAMING_SSL)
        n = (size_t)snprintf(out, size, "ERR_SSL_");
    else if (ERR_GET_LIB(err) == ERR_LIB_SSL)
        n = (size_t)snprintf(out, size, "ERR_SSL_");
    else
        n = (size_t)snprintf(out, size, "ERR_OSSL_%s", lib_prefix(ERR_GET_LIB(err)));
    for (const char *r = reason; *r && n + 1 < size; r++)
        out[n++] = *r == ' ' ? '_' : (char)toupper((unsigned char)*r);
    out[n < size ? n : size - 1] = '\0';
}

void cnet__tls_error_clear(cnet__tls_error_t *e)
{
    cnet__free(e->message);
    cnet__free(e->reason);
    cnet__free(e->host);
    memset(e, 0, sizeof *e);
}

int cnet__tls_error_set(cnet__tls_error_t *e, int code, const char *message, const char *reason,
                        const char *host)
{
    cnet__tls_error_clear(e);
    e->code = code;
    snprintf(e->name, sizeof e->name, "%s", cnet_err_name(code));
    e->message = cnet__strdup(message ? message : cnet_strerror(code));
    e->reason = reason ? cnet__strdup(reason) : NULL;
    e->host = host ? cnet__strdup(host) : NULL;
    if (!e->message || (reason && !e->reason) || (host && !e->host))
        return CNET_ENOMEM;
    return 0;
}

int cnet__tls_err_collect(int naming, int fallback, cnet__tls_error_t *out)
{
    const char *func = NULL, *data = NULL;
    int flags = 0;
    unsigned long err = ERR_peek_error_all(NULL, NULL, &func, &data, &flags);
    char text[256], message[512];
    const char *reason, *lib;
    int code;

    if (err == 0) {
        if (out)
            cnet__tls_error_set(out, fallback, NULL, NULL, NULL);
        return fallback;
    }
    reason = ERR_reason_error_string(err);
    lib = ERR_lib_error_string(err);
    if (out) {
        cnet__tls_error_clear(out);
        node_code(naming, err, reason ? reason : "", out->name, sizeof out->name);
    }
    if (ERR_GET_REASON(err) == ERR_R_MALLOC_FAILURE) {
        code =
            CNET_ENOMEM; /* OpenSSL ran out of memory: the code says so, the message is its own */
    } else if (reason) {
        char name[96];
        node_code(naming, err, reason, name, sizeof name);
        code = cnet__tls_err_lookup(name);
        if (!code)
            code = CNET_ERR_OSSL_UNLISTED;
    } else {
        code = CNET_ERR_OSSL_UNLISTED;
    }
    if (out) {
        out->code = code;
        snprintf(out->library, sizeof out->library, "%s", lib ? lib : "");
        ERR_error_string_n(err, text, sizeof text);
        if (naming == CNET__TLS_NAMING_SSL) {
            /* ERR_print_errors' line without its thread id and source location. */
            snprintf(message, sizeof message, "error:%08lX:%s:%s:%s%s%s", err, lib ? lib : "",
                     func ? func : "", reason ? reason : "",
                     (flags & ERR_TXT_STRING) && data && *data ? ":" : "",
                     (flags & ERR_TXT_STRING) && data ? data : "");
            out->message = cnet__strdup(message);
        } else {
            out->message = cnet__strdup(text);
        }
        out->reason = reason ? cnet__strdup(reason) : NULL;
    }
    ERR_clear_error();
    return code;
}
