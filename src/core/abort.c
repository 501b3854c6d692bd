/*
 * Cancellation: Node's AbortController and AbortSignal.
 *
 * A controller and its signal are one allocation, counted: the controller
 * holds one reference, every linked listener one, and an abort in progress
 * one. So cnet_abort_controller_free() may come at any time, also from
 * inside a callback that an abort caused: the memory stays while a server or
 * socket still listens, and goes with the last unlisten.
 *
 * Listeners are internal (sockets and servers register theirs) and live in
 * their owner's memory, so listening never allocates. abort() unlinks each
 * listener before calling it, one at a time from the head, so a listener may
 * unlink any other (a destroyed socket unlistens), listen anew, abort again
 * (a no-op) or free the controller.
 */
#include "internal.h"

struct cnet_abort_signal_s {
    int refs;
    bool aborted;
    cnet__abort_listener_t *head, *tail; /* in registration order, as Node calls them */
};

struct cnet_abort_controller_s {
    cnet_abort_signal_t signal; /* first: the controller is its signal's allocation */
};

static void signal_release(cnet_abort_signal_t *sig)
{
    if (--sig->refs == 0)
        cnet__free(sig);
}

int cnet_abort_controller_new(cnet_abort_controller_t **out)
{
    cnet_abort_controller_t *ac;

    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    ac = cnet__calloc(1, sizeof *ac);
    if (!ac)
        return CNET_ENOMEM;
    ac->signal.refs = 1;
    *out = ac;
    return 0;
}

cnet_abort_signal_t *cnet_abort_controller_signal(cnet_abort_controller_t *ac)
{
    return ac ? &ac->signal : NULL;
}

void cnet_abort_controller_abort(cnet_abort_controller_t *ac)
{
    cnet_abort_signal_t *sig;
    cnet__abort_listener_t *l;

    if (!ac || ac->signal.aborted)
        return;
    sig = &ac->signal;
    sig->aborted = true;
    sig->refs++; /* a listener may free the controller */
    while ((l = sig->head) != NULL) {
        sig->head = l->next;
        if (l->next)
            l->next->prev = NULL;
        else
            sig->tail = NULL;
        l->next = l->prev = NULL;
        l->signal = NULL;
        signal_release(sig); /* the listener's reference; ours keeps sig */
        l->fn(l);            /* may free l */
    }
    signal_release(sig);
}

void cnet_abort_controller_free(cnet_abort_controller_t *ac)
{
    if (ac)
        signal_release(&ac->signal);
}

bool cnet_abort_signal_is_aborted(const cnet_abort_signal_t *sig)
{
    return sig && sig->aborted;
}

void cnet__abort_listen(cnet_abort_signal_t *sig, cnet__abort_listener_t *l)
{
    cnet__abort_unlisten(l);
    l->signal = sig;
    l->next = NULL;
    l->prev = sig->tail;
    if (sig->tail)
        sig->tail->next = l;
    else
        sig->head = l;
    sig->tail = l;
    sig->refs++;
}

void cnet__abort_unlisten(cnet__abort_listener_t *l)
{
    cnet_abort_signal_t *sig = l->signal;

    if (!sig)
        return;
    if (l->prev)
        l->prev->next = l->next;
    else
        sig->head = l->next;
    if (l->next)
        l->next->prev = l->prev;
    else
        sig->tail = l->prev;
    l->next = l->prev = NULL;
    l->signal = NULL;
    signal_release(sig);
}
