/*
 * A socket's AbortSignal (the `signal` of cnet_socket_opts_t and of
 * cnet_connect_opts_t, Node's new net.Socket({signal})): an abort destroys
 * the socket with CNET_ABORT_ERR, Node's AbortError. The listeners are
 * allocated only for sockets given a signal (so others pay one pointer) and
 * are dropped when the socket emits 'close'.
 */
#include "internal.h"

static void on_abort(cnet__abort_listener_t *l)
{
    cnet__socket_destroy(l->obj, CNET_ABORT_ERR, NULL); /* linked only until 'close' */
}

int cnet__socket_abort_attach(cnet_socket_t *s, cnet_abort_signal_t *sig)
{
    cnet__abort_listener_t *l;

    if (!sig)
        return 0;
    if (cnet_abort_signal_is_aborted(sig)) {
        /* Node destroys at once; 'error' and 'close' come on later ticks. */
        cnet__socket_destroy(s, CNET_ABORT_ERR, NULL);
        return 0;
    }
    l = cnet__calloc(1, sizeof *l);
    if (!l)
        return CNET_ENOMEM;
    l->fn = on_abort;
    l->obj = s;
    l->next_own = s->abort;
    s->abort = l;
    cnet__abort_listen(sig, l);
    return 0;
}

void cnet__socket_abort_detach(cnet_socket_t *s)
{
    cnet__abort_listener_t *l;

    while ((l = s->abort) != NULL) {
        s->abort = l->next_own;
        cnet__abort_unlisten(l);
        cnet__free(l);
    }
}
