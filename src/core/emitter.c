/*
 * EventEmitter with Node's snapshot rule: an emit calls the listeners that
 * were registered when it began. Listeners are individually allocated and
 * the emit copies their pointers, so adding (appended or prepended) during
 * an emit cannot affect it, and a listener removed during an emit is still
 * called in it (Node does the same). Removed listeners are parked on a
 * "dead" list until no emit is running, so the snapshot never points at
 * freed memory and arg_free never runs before the last call.
 */
#include "internal.h"

#define SNAPSHOT_STACK 8

static void listener_free(cnet__listener_t *l)
{
    if (l->arg_free)
        l->arg_free(l->arg);
    cnet__free(l);
}

int cnet__emitter_add(cnet__emitter_t *em, int type, cnet__any_cb cb, void *arg,
                      cnet_free_fn arg_free, bool once, bool prepend)
{
    cnet__listener_t *l;

    if (!cb)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (type < 0 || type >= CNET_EVENT__COUNT)
        return CNET_ERR_INVALID_ARG_VALUE;
    if (em->n == em->cap) {
        uint32_t cap = em->cap ? em->cap * 2 : 4;
        cnet__listener_t **items = cnet__realloc(em->items, cap * sizeof *items);
        if (!items)
            return CNET_ENOMEM;
        em->items = items;
        em->cap = cap;
    }
    l = cnet__calloc(1, sizeof *l);
    if (!l)
        return CNET_ENOMEM;
    l->cb = cb;
    l->arg = arg;
    l->arg_free = arg_free;
    l->type = (uint8_t)type;
    l->flags = once ? CNET__L_ONCE : 0;
    if (prepend) {
        memmove(em->items + 1, em->items, em->n * sizeof *em->items);
        em->items[0] = l;
    } else {
        em->items[em->n] = l;
    }
    em->n++;
    em->count[type]++;
    return 0;
}

/* Unlinks item i; frees it now, or parks it while an emit may still call it. */
static void remove_at(cnet__emitter_t *em, uint32_t i)
{
    cnet__listener_t *l = em->items[i];

    memmove(em->items + i, em->items + i + 1, (em->n - i - 1) * sizeof *em->items);
    em->n--;
    em->count[l->type]--;
    l->flags |= CNET__L_REMOVED;
    if (em->depth) {
        l->next_dead = em->dead;
        em->dead = l;
    } else {
        listener_free(l);
    }
}

void cnet__emitter_remove(cnet__emitter_t *em, int type, cnet__any_cb cb, void *arg)
{
    /* Node's removeListener removes the most recently added match. */
    for (uint32_t i = em->n; i-- > 0;) {
        cnet__listener_t *l = em->items[i];
        if (l->type == type && l->cb == cb && l->arg == arg) {
            remove_at(em, i);
            return;
        }
    }
}

void cnet__emitter_remove_all(cnet__emitter_t *em, int type)
{
    for (uint32_t i = em->n; i-- > 0;) {
        if (type == (int)CNET_EVENT_ALL || em->items[i]->type == type)
            remove_at(em, i);
    }
}

size_t cnet__emitter_count(const cnet__emitter_t *em, int type)
{
    return type >= 0 && type < CNET_EVENT__COUNT ? em->count[type] : 0;
}

static void free_dead(cnet__emitter_t *em)
{
    while (em->dead) {
        cnet__listener_t *l = em->dead;
        em->dead = l->next_dead;
        listener_free(l);
    }
}

size_t cnet__emit(cnet__emitter_t *em, void *self, const cnet_event_t *ev, cnet__invoke_fn invoke)
{
    cnet__listener_t *stack[SNAPSHOT_STACK], **snap = stack;
    size_t k = 0, want = em->count[ev->type];

    if (want == 0)
        return 0;
    /* The per-type count sizes the snapshot up front, so the scan below is tight. */
    if (want > SNAPSHOT_STACK) {
        snap = cnet__malloc(want * sizeof *snap);
        if (!snap) {
            snap = stack; /* out of memory: call the first listeners only */
            want = SNAPSHOT_STACK;
        }
    }
    /* The hot path ('data' with one listener) scans only up to its listener. */
    for (uint32_t i = 0; i < em->n && k < want; i++)
        if (em->items[i]->type == ev->type)
            snap[k++] = em->items[i];

    em->depth++;
    for (size_t j = 0; j < k; j++) {
        cnet__listener_t *l = snap[j];
        if (l->flags & CNET__L_ONCE) {
            /* A once listener runs at most once, even if a nested emit got to it first. */
            if (l->flags & CNET__L_FIRED)
                continue;
            l->flags |= CNET__L_FIRED;
            if (!(l->flags & CNET__L_REMOVED)) {
                for (uint32_t i = 0; i < em->n; i++) {
                    if (em->items[i] == l) {
                        remove_at(em, i);
                        break;
                    }
                }
            }
        }
        invoke(self, l->cb, ev, l->arg);
    }
    em->depth--;
    if (snap != stack)
        cnet__free(snap);
    if (em->depth == 0)
        free_dead(em);
    return k;
}

void cnet__emitter_free(cnet__emitter_t *em)
{
    for (uint32_t i = 0; i < em->n; i++)
        listener_free(em->items[i]);
    cnet__free(em->items);
    em->items = NULL;
    em->n = em->cap = 0;
    memset(em->count, 0, sizeof em->count);
    free_dead(em);
}
