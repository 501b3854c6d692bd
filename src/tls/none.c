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

/* ---- TLS sockets: never TLS without OpenSSL (CNET__S_TLS is never set) ---- */

int cnet__tls_sock_write(cnet_socket_t *s, const cnet_buf_t *bufs, size_t nbufs,
                         cnet_free_fn dispose, cnet_write_cb cb, void *arg)
{
    CNET__UNUSED(s), CNET__UNUSED(cb), CNET__UNUSED(arg);
    cnet__stream_dispose_bufs(bufs, nbufs, dispose);
    return CNET_ERR_NO_CRYPTO;
}
void cnet__tls_sock_on_read(cnet_socket_t *s, const char *base, size_t len)
{
    cnet__stream_on_readable_data(s, base, len);
}
void cnet__tls_sock_on_eof(cnet_socket_t *s)
{
    cnet__stream_on_eof(s);
}
bool cnet__tls_sock_may_shutdown(cnet_socket_t *s)
{
    CNET__UNUSED(s);
    return true;
}
void cnet__tls_sock_connected(cnet_socket_t *s)
{
    CNET__UNUSED(s);
}
void cnet__tls_sock_keylog_listened(cnet_socket_t *s)
{
    CNET__UNUSED(s);
}
void cnet__tls_sock_resumed(cnet_socket_t *s)
{
    CNET__UNUSED(s);
}
void cnet__tls_sock_free(cnet_socket_t *s)
{
    s->tls = NULL;
}
void cnet__tls_sock_destroyed(cnet_socket_t *s)
{
    CNET__UNUSED(s);
}
int cnet__tls_sock_accepted(cnet_socket_t *s, const cnet_server_opts_t *o)
{
    CNET__UNUSED(s), CNET__UNUSED(o);
    return CNET_ERR_NO_CRYPTO;
}
bool cnet__tls_context_has_alpn(const cnet_tls_context_t *ctx)
{
    CNET__UNUSED(ctx);
    return false;
}
int cnet_tls_sni_done(cnet_socket_t *s, cnet_tls_context_t *ctx, int err, const char *message)
{
    CNET__UNUSED(s), CNET__UNUSED(ctx), CNET__UNUSED(err), CNET__UNUSED(message);
    return CNET_ERR_NO_CRYPTO;
}

int cnet_socket_set_secure(cnet_socket_t *s, cnet_tls_context_t *ctx,
                           const cnet_tls_socket_opts_t *opts)
{
    CNET__UNUSED(s), CNET__UNUSED(ctx), CNET__UNUSED(opts);
    return CNET_ERR_NO_CRYPTO;
}
int cnet_tls_connect(cnet_loop_t *loop, const cnet_connect_opts_t *copts, cnet_tls_context_t *ctx,
                     const cnet_tls_socket_opts_t *topts, cnet_socket_cb on_secure, void *arg,
                     cnet_socket_t **out)
{
    CNET__UNUSED(loop), CNET__UNUSED(copts), CNET__UNUSED(ctx), CNET__UNUSED(topts);
    CNET__UNUSED(on_secure), CNET__UNUSED(arg);
    if (out)
        *out = NULL;
    return CNET_ERR_NO_CRYPTO;
}
bool cnet_socket_is_tls(const cnet_socket_t *s)
{
    CNET__UNUSED(s);
    return false;
}
bool cnet_socket_tls_authorized(const cnet_socket_t *s)
{
    CNET__UNUSED(s);
    return false;
}

bool cnet_socket_verify_peer(const cnet_socket_t *s)
{
    CNET__UNUSED(s);
    return false;
}
int cnet_socket_tls_authorization_error(const cnet_socket_t *s, const char **message)
{
    CNET__UNUSED(s);
    if (message)
        *message = NULL;
    return 0;
}
const char *cnet_socket_tls_protocol(const cnet_socket_t *s)
{
    CNET__UNUSED(s);
    return NULL;
}
int cnet_socket_tls_cipher(const cnet_socket_t *s, const char **name, const char **standard_name,
                           const char **version)
{
    CNET__UNUSED(s), CNET__UNUSED(name), CNET__UNUSED(standard_name), CNET__UNUSED(version);
    return CNET_ERR_TLS_INVALID_STATE;
}
const char *cnet_socket_tls_alpn_protocol(const cnet_socket_t *s)
{
    CNET__UNUSED(s);
    return NULL;
}
const char *cnet_socket_tls_servername(const cnet_socket_t *s)
{
    CNET__UNUSED(s);
    return NULL;
}
bool cnet_socket_tls_session_reused(const cnet_socket_t *s)
{
    CNET__UNUSED(s);
    return false;
}
int cnet_socket_tls_get_session(const cnet_socket_t *s, unsigned char **out, size_t *out_len)
{
    CNET__UNUSED(s);
    if (!out || !out_len)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    *out_len = 0;
    return 0;
}
void cnet_tls_free(void *p)
{
    cnet__free(p);
}
int cnet_socket_tls_peer_certificate(const cnet_socket_t *s, bool detailed,
                                     const cnet_tls_cert_t **out)
{
    CNET__UNUSED(s), CNET__UNUSED(detailed);
    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    return 0;
}
