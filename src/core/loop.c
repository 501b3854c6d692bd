/*
 * Loops: the per-thread default loop, running until nothing ref'd remains,
 * adopting a libuv loop, the deferred-call queue ("ticks") and SIGPIPE
 * suppression.
 *
 * Ticks are cnet's process.nextTick: every callback that must not run inside
 * the call that caused it is queued here and run right after the current
 * loop phase. A uv_check handle drains the queue after each poll phase; a
 * uv_idle handle, active only while the queue is non-empty, keeps poll from
 * blocking (and drains ticks queued by timers before poll).
 *
 * Posts (cnet_loop_post) are the one door into a loop from other threads: a
 * mutex-protected FIFO and a uv_async_t. Only a post that finds the queue
 * empty sends the wakeup (and uv_async_send coalesces further), under the
 * lock, so a close (which flips post_closed under the same lock before it
 * closes the async handle) never races a send. The loop struct's memory is
 * reference counted (xrefs) so a retained loop can refuse posts after close.
 */
#include "internal.h"

#include <cnet/uv.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static _Thread_local cnet_loop_t *default_loop;

static void tick_drain(cnet_loop_t *loop);
static void on_post_async(uv_async_t *h);

static void on_tick_idle(uv_idle_t *h)
{
    tick_drain(h->data);
}

static void on_tick_check(uv_check_t *h)
{
    tick_drain(h->data);
}

static int loop_setup(cnet_loop_t *loop)
{
    int err;

    loop->read_buf = cnet__malloc(CNET__READ_BUF_SIZE + CNET__PLAIN_BUF_SIZE);
    if (!loop->read_buf)
        return CNET_ENOMEM;
    if ((err = uv_mutex_init(&loop->post_lock)) != 0) {
        cnet__free(loop->read_buf);
        return cnet__err_from_uv(err);
    }
    if ((err = uv_async_init(loop->uv, &loop->post_async, on_post_async)) != 0) {
        uv_mutex_destroy(&loop->post_lock);
        cnet__free(loop->read_buf);
        return cnet__err_from_uv(err);
    }
    loop->post_async.data = loop;
    uv_unref((uv_handle_t *)&loop->post_async); /* posts alone do not keep a loop running */
    atomic_init(&loop->xrefs, 1);
    uv_idle_init(loop->uv, &loop->tick_idle);
    uv_check_init(loop->uv, &loop->tick_check);
    loop->tick_idle.data = loop;
    loop->tick_check.data = loop;
    /* The check handle never keeps the loop alive; the idle one does while ticks wait. */
    uv_unref((uv_handle_t *)&loop->tick_check);
    return 0;
}

int cnet_loop_new(cnet_loop_t **out)
{
    cnet_loop_t *loop;
    int err;

    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    loop = cnet__calloc(1, sizeof *loop);
    if (!loop)
        return CNET_ENOMEM;
    err = uv_loop_init(&loop->uv_storage);
    if (err) {
        cnet__free(loop);
        return cnet__err_from_uv(err);
    }
    loop->uv = &loop->uv_storage;
    loop->owned = true;
    err = loop_setup(loop);
    if (err) {
        if (uv_loop_close(loop->uv) != 0)
            cnet__log(CNET_LOG_ERROR, "loop: uv_loop_close failed after a failed setup");
        cnet__free(loop);
        return err;
    }
    *out = loop;
    return 0;
}

int cnet_loop_from_uv(uv_loop_t *uv, cnet_loop_t **out)
{
    cnet_loop_t *loop;
    int err;

    if (!uv || !out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    loop = cnet__calloc(1, sizeof *loop);
    if (!loop)
        return CNET_ENOMEM;
    loop->uv = uv;
    loop->owned = false;
    err = loop_setup(loop);
    if (err) {
        cnet__free(loop);
        return err;
    }
    *out = loop;
    return 0;
}

uv_loop_t *cnet_loop_get_uv(cnet_loop_t *loop)
{
    return loop ? loop->uv : NULL;
}

cnet_loop_t *cnet_loop_default(void)
{
    if (!default_loop && cnet_loop_new(&default_loop) == 0)
        default_loop->is_default = true;
    return default_loop;
}

cnet_loop_t *cnet__loop_or_default(cnet_loop_t *loop)
{
    return loop ? loop : cnet_loop_default();
}

size_t cnet_loop_alive(const cnet_loop_t *loop)
{
    return loop ? loop->alive : 0;
}

uint64_t cnet_loop_now(const cnet_loop_t *loop)
{
    return loop ? uv_now(loop->uv) : 0;
}

static void on_internal_close(uv_handle_t *h)
{
    CNET__UNUSED(h);
}

static void loop_free_struct(cnet_loop_t *loop)
{
    uv_mutex_destroy(&loop->post_lock);
    cnet__free(loop);
}

void cnet_loop_retain(cnet_loop_t *loop)
{
    if (loop)
        atomic_fetch_add_explicit(&loop->xrefs, 1, memory_order_relaxed);
}

void cnet_loop_release(cnet_loop_t *loop)
{
    if (loop && atomic_fetch_sub_explicit(&loop->xrefs, 1, memory_order_acq_rel) == 1)
        loop_free_struct(loop);
}

int cnet_loop_close(cnet_loop_t *loop)
{
    cnet__post_t *p, *next;

    if (!loop)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (loop->alive || loop->tick_head || loop->in_run || loop->in_post)
        return CNET_ERR_LOOP_BUSY;
    /* From here on posts fail; what was posted but never ran is cancelled below. */
    uv_mutex_lock(&loop->post_lock);
    loop->post_closed = true;
    p = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    uv_mutex_unlock(&loop->post_lock);
    uv_close((uv_handle_t *)&loop->post_async, on_internal_close);
    for (; p; p = next) {
        next = p->next;
        p->fn(loop, CNET_ERR_LOOP_CLOSED, p->arg);
        if (!p->embedded)
            cnet__free(p);
    }
    uv_close((uv_handle_t *)&loop->tick_idle, on_internal_close);
    uv_close((uv_handle_t *)&loop->tick_check, on_internal_close);
    /* Let libuv finish our closes (and any timer a socket left closing). */
    while (uv_run(loop->uv, UV_RUN_NOWAIT))
        ;
    if (loop->owned && uv_loop_close(loop->uv) != 0) {
        /* A handle that is not ours is still open: it is the caller's bug,
         * but we must not free the uv_loop_t under it. Leak rather than crash. */
        cnet__log(CNET_LOG_ERROR, "loop: uv_loop_close failed, libuv handles still open");
        return CNET_ERR_LOOP_BUSY;
    }
    cnet__free(loop->read_buf);
    cnet__strbuf_free(&loop->text);
    if (loop->has_reserve)
        close(loop->reserve_fd);
    loop->has_reserve = false;
    if (loop == default_loop)
        default_loop = NULL;
    cnet_loop_release(loop); /* the loop's own reference: retains keep the memory */
    return 0;
}

/* ---- posts from other threads ------------------------------------------- */

int cnet__loop_post_embedded(cnet_loop_t *loop, cnet__post_t *p)
{
    bool was_empty;
    int err = 0;

    p->next = NULL;
    uv_mutex_lock(&loop->post_lock);
    if (loop->post_closed) {
        uv_mutex_unlock(&loop->post_lock);
        return CNET_ERR_LOOP_CLOSED;
    }
    was_empty = loop->post_head == NULL;
    if (loop->post_tail)
        loop->post_tail->next = p;
    else
        loop->post_head = p;
    loop->post_tail = p;
    /* Under the lock: the handle cannot be closing (close flips post_closed first). A
     * non-empty queue already has its wakeup on the way (or its drain running). */
    if (was_empty && (err = uv_async_send(&loop->post_async)) != 0)
        loop->post_head = loop->post_tail = NULL;
    uv_mutex_unlock(&loop->post_lock);
    return err ? cnet__err_from_uv(err) : 0;
}

int cnet_loop_post(cnet_loop_t *loop, cnet_post_fn fn, void *arg)
{
    cnet__post_t *p;
    int err;

    if (!loop || !fn)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!(p = cnet__malloc(sizeof *p)))
        return CNET_ENOMEM;
    p->fn = fn;
    p->arg = arg;
    p->embedded = false;
    if ((err = cnet__loop_post_embedded(loop, p)) != 0)
        cnet__free(p);
    return err;
}

/* Runs what was posted before this wakeup; later posts send their own wakeup. */
static void on_post_async(uv_async_t *h)
{
    cnet_loop_t *loop = h->data;
    cnet__post_t *p, *next;
    bool nested = loop->in_post;

    uv_mutex_lock(&loop->post_lock);
    p = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    uv_mutex_unlock(&loop->post_lock);
    loop->in_post = true;
    for (; p; p = next) {
        next = p->next;
        /* An embedded post may be queued again by its own fn: read before calling. */
        bool embedded = p->embedded;
        p->fn(loop, 0, p->arg);
        if (!embedded)
            cnet__free(p);
    }
    loop->in_post = nested;
}

void cnet__loop_hold(cnet_loop_t *loop, bool hold)
{
    if (hold)
        uv_ref((uv_handle_t *)&loop->post_async);
    else
        uv_unref((uv_handle_t *)&loop->post_async);
}

/* ---- SIGPIPE ------------------------------------------------------------
 * libuv writes with write(2), which raises SIGPIPE on a closed peer. We do
 * not touch the process's handlers: the running thread blocks SIGPIPE, and a
 * SIGPIPE that our writes made pending is consumed before unblocking.
 */

void cnet__sigpipe_block(cnet__sigpipe_guard_t *g)
{
    sigset_t block, pending;
    _Static_assert(sizeof(sigset_t) <= sizeof g->oldmask, "sigset_t too large");

    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    g->active = pthread_sigmask(SIG_BLOCK, &block, (sigset_t *)(void *)g->oldmask) == 0;
}

void cnet__sigpipe_restore(cnet__sigpipe_guard_t *g)
{
    sigset_t pending, only;
    struct timespec zero = {0, 0};

    if (!g->active)
        return;
    sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE)) {
        sigemptyset(&only);
        sigaddset(&only, SIGPIPE);
        while (sigtimedwait(&only, NULL, &zero) == -1 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, (sigset_t *)(void *)g->oldmask, NULL);
    g->active = false;
}

/* ---- running ------------------------------------------------------------ */

static bool posts_pending(cnet_loop_t *loop)
{
    bool pending;

    uv_mutex_lock(&loop->post_lock);
    pending = loop->post_head != NULL;
    uv_mutex_unlock(&loop->post_lock);
    return pending;
}

static int run_mode(cnet_loop_t *loop, uv_run_mode mode)
{
    cnet__sigpipe_guard_t g;
    bool nested = loop->in_run;
    int r;

    if (!nested)
        cnet__sigpipe_block(&g);
    loop->in_run = true;
    /* Posts keep a run going: libuv does not iterate a loop that has nothing ref'd,
     * so what was posted to an otherwise idle loop is run here, and the run goes on
     * with whatever it started. (A post arriving after this returned waits.) */
    while ((r = uv_run(loop->uv, mode)) == 0 && posts_pending(loop)) {
        on_post_async(&loop->post_async);
        if (mode != UV_RUN_DEFAULT) {
            r = 1;
            break;
        }
    }
    loop->in_run = nested;
    if (!nested)
        cnet__sigpipe_restore(&g);
    return r;
}

int cnet_loop_run(cnet_loop_t *loop)
{
    if (!loop)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (loop->in_run)
        return CNET_ERR_LOOP_BUSY; /* libuv loops are not reentrant */
    run_mode(loop, UV_RUN_DEFAULT);
    return 0;
}

bool cnet_loop_run_nowait(cnet_loop_t *loop)
{
    if (!loop || loop->in_run)
        return false;
    return run_mode(loop, UV_RUN_NOWAIT) != 0;
}

void cnet_loop_stop(cnet_loop_t *loop)
{
    if (loop)
        uv_stop(loop->uv);
}

int cnet_run(void)
{
    cnet_loop_t *loop = cnet_loop_default();
    int err;

    if (!loop)
        return CNET_ENOMEM;
    err = cnet_loop_run(loop);
    if (err == 0 && loop->alive == 0)
        cnet_loop_close(loop);
    return err;
}

/* ---- ticks -------------------------------------------------------------- */

static void tick_enqueue(cnet_loop_t *loop, cnet__tick_t *t, cnet__tick_fn fn, void *obj,
                         const cnet__ref_ops_t *ops);

cnet__tick_t *cnet__tick(cnet_loop_t *loop, cnet__tick_fn fn, void *obj, const cnet__ref_ops_t *ops)
{
    cnet__tick_t *t = cnet__calloc(1, sizeof *t);

    if (!t)
        return NULL;
    tick_enqueue(loop, t, fn, obj, ops);
    return t;
}

void cnet__tick_embedded(cnet_loop_t *loop, cnet__tick_t *t, cnet__tick_fn fn, void *obj,
                         const cnet__ref_ops_t *ops)
{
    if (t->queued)
        return;
    t->embedded = true;
    tick_enqueue(loop, t, fn, obj, ops);
}

/* Takes a queued tick off the queue without running it (rare paths: a walk is fine). */
void cnet__tick_cancel(cnet_loop_t *loop, cnet__tick_t *t)
{
    cnet__tick_t *prev = NULL, *cur = loop->tick_head;

    if (!t->queued)
        return;
    while (cur && cur != t) {
        prev = cur;
        cur = cur->next;
    }
    if (!cur)
        return;
    if (prev)
        prev->next = t->next;
    else
        loop->tick_head = t->next;
    if (loop->tick_tail == t)
        loop->tick_tail = prev;
    t->queued = false;
    if (t->ops)
        t->ops->release(t->obj);
}

static void tick_enqueue(cnet_loop_t *loop, cnet__tick_t *t, cnet__tick_fn fn, void *obj,
                         const cnet__ref_ops_t *ops)
{
    t->next = NULL;
    t->queued = true;
    t->fn = fn;
    t->obj = obj;
    t->ops = obj ? ops : NULL;
    if (t->ops)
        t->ops->retain(obj);
    if (loop->tick_tail)
        loop->tick_tail->next = t;
    else
        loop->tick_head = t;
    loop->tick_tail = t;
    if (!loop->ticks_active) {
        loop->ticks_active = true;
        uv_idle_start(&loop->tick_idle, on_tick_idle);
        uv_check_start(&loop->tick_check, on_tick_check);
    }
}

/*
 * Runs the ticks queued so far; ticks queued while draining run too (as
 * nextTick callbacks queued by nextTick callbacks do), in FIFO order.
 */
static void tick_drain(cnet_loop_t *loop)
{
    cnet__tick_t *t;

    while ((t = loop->tick_head) != NULL) {
        loop->tick_head = t->next;
        if (!loop->tick_head)
            loop->tick_tail = NULL;
        t->queued = false;
        t->fn(t);
        /* An embedded tick may be queued again by fn; its object stays alive
         * until the release below, so read everything before releasing. */
        {
            bool embedded = t->embedded;
            const cnet__ref_ops_t *ops = t->ops;
            void *obj = t->obj;
            if (!embedded)
                cnet__free(t);
            if (ops)
                ops->release(obj);
        }
    }
    if (loop->ticks_active) {
        loop->ticks_active = false;
        uv_idle_stop(&loop->tick_idle);
        uv_check_stop(&loop->tick_check);
    }
}
