/*
 * Shared by the tls_* scenarios: the PEM files of tls_common.js (made by
 * node first in the run's temp dir; made here when run alone) and the same
 * line per TLS socket event as its traceTls().
 */
#ifndef CNET_CONF_TLS_COMMON_H
#define CNET_CONF_TLS_COMMON_H

#include <unistd.h>

#include "conformance.h"

/* tls_key.pem / tls_cert.pem: self-signed, CN=localhost, DNS:localhost, IP:127.0.0.1. */
static inline int conf_tls_files(void)
{
    if (access("tls_key.pem", R_OK) == 0)
        return 0;
    return system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                  "-keyout tls_key.pem -out tls_cert.pem -subj /CN=localhost "
                  "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 2 2>/dev/null") == 0
               ? 0
               : -1;
}

/* A context: with @p key_and_cert our identity from the files, with @p ca trusting the cert. */
static inline cnet_tls_context_t *conf_tls_ctx(bool key_and_cert, bool ca, const char *const *alpn)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *ctx = NULL;
    if (key_and_cert) {
        o.key_file = "tls_key.pem";
        o.cert_file = "tls_cert.pem";
    }
    if (ca)
        o.ca_file = "tls_cert.pem";
    o.alpn_protocols = alpn;
    CONF_OK(cnet_tls_context_new(&o, &ctx, NULL, 0));
    return ctx;
}

static void conf_tls_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    const char *side = arg;
    const char *alpn;
    int code;

    switch (ev->type) {
    case CNET_EVENT_CONNECT:
        conf_log("%s connect", side);
        break;
    case CNET_EVENT_SECURE_CONNECT:
        code = cnet_socket_tls_authorization_error(s, NULL);
        alpn = cnet_socket_tls_alpn_protocol(s);
        conf_log("%s secureConnect %s %s %s %s", side,
                 cnet_socket_tls_authorized(s) ? "true" : "false", code ? cnet_err_name(code) : "-",
                 cnet_socket_tls_protocol(s), alpn ? alpn : "false");
        break;
    case CNET_EVENT_SECURE:
        conf_log("%s secure", side);
        break;
    case CNET_EVENT_SESSION:
        conf_log("%s session %s", side, cnet_socket_tls_session_reused(s) ? "true" : "false");
        break;
    case CNET_EVENT_DATA:
        conf_log("%s data %s", side, conf_esc(ev->data.base, ev->data.len));
        break;
    case CNET_EVENT_END:
        conf_log("%s end", side);
        break;
    case CNET_EVENT_ERROR:
        conf_log("%s error %s %s", side, cnet_err_name(ev->error->code),
                 conf_esc(ev->error->message, strlen(ev->error->message)));
        break;
    case CNET_EVENT_CLOSE:
        conf_log("%s close %s", side, ev->had_error ? "true" : "false");
        break;
    default:
        break;
    }
}

/* traceTls(c, side): @p side must outlive the socket (a literal). With @p connect false,
 * 'connect' is left out (a socket upgraded after it). Listeners added by the caller
 * afterwards run after these, as in node. */
static inline void conf_trace_tls(cnet_socket_t *s, const char *side, bool connect)
{
    static const cnet_event_type_t evs[] = {CNET_EVENT_CONNECT, CNET_EVENT_SECURE_CONNECT,
                                            CNET_EVENT_SECURE,  CNET_EVENT_SESSION,
                                            CNET_EVENT_DATA,    CNET_EVENT_END,
                                            CNET_EVENT_ERROR,   CNET_EVENT_CLOSE};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (connect || evs[i] != CNET_EVENT_CONNECT)
            CONF_OK(cnet_socket_on(s, evs[i], conf_tls_cb, (void *)side));
}

#endif
