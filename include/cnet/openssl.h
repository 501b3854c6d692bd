/*
 * cnet/openssl.h: optional OpenSSL interop. The only public header that
 * includes OpenSSL's; include it when you need OpenSSL itself (an option
 * cnet does not expose, OCSP, your own verification). Installed only when
 * cnet is built with TLS (CNET_WITH_TLS, the default); build against
 * OpenSSL 3 (`pkg-config --cflags libssl`).
 */
#ifndef CNET_OPENSSL_H
#define CNET_OPENSSL_H

#include <cnet.h>
#include <openssl/ssl.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The SSL_CTX of @p ctx, or NULL for NULL. Borrowed: valid while @p ctx is
 * (take SSL_CTX_up_ref() to keep it longer). The context is shared by every
 * connection that uses it, possibly on several threads, so change it only
 * before the first connection is made with it. cnet owns its callbacks (ALPN
 * selection, client hello, keylog, new session), its app data, and the
 * verify callback of the connections: replacing them breaks cnet's
 * behaviour. Everything else is yours.
 */
CNET_EXTERN SSL_CTX *cnet_tls_context_get_ssl_ctx(cnet_tls_context_t *ctx);

/**
 * The SSL of a TLS socket, NULL for a plain socket or NULL. Borrowed: valid
 * until the socket's 'close' listeners have returned. Reading it is yours
 * (SSL_get_peer_certificate, SSL_get0_alpn_selected, ...); cnet drives its
 * I/O through memory BIOs, so do not read, write, shut it down or replace
 * its BIOs, callbacks or app data.
 */
CNET_EXTERN SSL *cnet_socket_get_ssl(cnet_socket_t *s);

#ifdef __cplusplus
}
#endif
#endif
