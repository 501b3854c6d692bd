/*
 * The TLS API of a build without OpenSSL (CNET_WITH_TLS=OFF): every function
 * exists, so programs link either way, and reports CNET_ERR_NO_CRYPTO (node's
 * code when it is built without crypto). Only this file is compiled from
 * src/tls/ in such a build.
 */
#include "internal.h"

#include <stdio.h>

static void no_crypto(char *errmsg, size_t size)
{
    if (errmsg && size)
        snprintf(errmsg, size, "%s", cnet_strerror(CNET_ERR_NO_CRYPTO));
}

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

int cnet_tls_context_new(const cnet_tls_context_opts_t *opts, cnet_tls_context_t **out,
                         char *errmsg, size_t errmsg_size)
{
    if (out)
        *out = NULL;
    no_crypto(errmsg, errmsg_size);
    return CNET_ERR_NO_CRYPTO;
}

cnet_tls_context_t *cnet_tls_context_retain(cnet_tls_context_t *ctx)
{
    return ctx;
}

void cnet_tls_context_release(cnet_tls_context_t *ctx)
{
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
    if (out)
        *out = NULL;
    no_crypto(errmsg, errmsg_size);
    return CNET_ERR_NO_CRYPTO;
}

void cnet_tls_cert_free(const cnet_tls_cert_t *cert)
{
}

int cnet_tls_check_server_identity(const char *hostname, const cnet_tls_cert_t *cert, char *reason,
                                   size_t reason_size)
{
    no_crypto(reason, reason_size);
    return CNET_ERR_NO_CRYPTO;
}
