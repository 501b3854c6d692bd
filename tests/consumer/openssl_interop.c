/*
 * Compiled (not linked) by tests/test_consumer.sh against the installed
 * headers when cnet has TLS: <cnet/openssl.h> must stand alone with
 * OpenSSL's flags, and hand out an SSL_CTX.
 */
#include <cnet/openssl.h>

SSL_CTX *consumer_ssl_ctx(cnet_tls_context_t *ctx);

SSL_CTX *consumer_ssl_ctx(cnet_tls_context_t *ctx)
{
    SSL_CTX *c = cnet_tls_context_get_ssl_ctx(ctx);
    if (c)
        SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION);
    return c;
}
