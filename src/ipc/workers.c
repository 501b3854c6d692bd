/*
 * Workers: N threads, one cnet loop each (the thread's default loop), set up
 * one after the other by the user's setup function, stopped by a posted
 * shutdown, joined and freed (cnet_workers_start / cnet_workers_stop).
 *
 * A worker's loop is held running (cnet__loop_hold) until its shutdown runs.
 * The shutdown destroys every server and socket that has a libuv handle on the
 * loop (found with uv_walk: a handle whose data is the socket or server it is
 * embedded in), and a check handle repeats that sweep on every iteration until
 * the loop is empty, so a socket that gets its handle later (after a lookup,
 * or a reconnect from a 'close' listener) goes too. Then the loop closes.
 *
 * The group also shares listening sockets between its loops (node's cluster
 * handles, cnet_listen_opts_t.exclusive false): a table of bound, listening
 * sockets keyed by address, port as asked (0 included) and ipv6_only, under a
 * mutex; each server gets a dup() and returns its ticket when its handle
 * closes; the last one closes the group's socket.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_WORKERS 1024

typedef struct worker worker_t;
typedef struct shared_sock shared_sock_t;

struct shared_sock {
    shared_sock_t *next;
    struct sockaddr_storage key; /* as asked: port 0 stays 0 */
    bool ipv6_only;
    int fd;   /* the group's own descriptor; servers hold dup()s */
    int refs; /* servers whose handle is on a dup */
};

struct worker {
    cnet_workers_t *group;
    unsigned index;
    pthread_t tid;
    bool thread_started;
    cnet_loop_t *loop;  /* retained by the group until stop returns */
    cnet__post_t stop;  /* the shutdown, posted by cnet_workers_stop() */
    uv_check_t sweeper; /* destroys what appears during the shutdown */
    bool stopping;      /* worker's thread only */
};

struct cnet_workers_s {
    unsigned n;
    cnet_worker_setup_fn setup;
    void *arg;
    worker_t *w;
    /* Start-up handshake: the starter waits for each setup's result. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready;
    int setup_rc;
    /* Listening sockets shared by the group's loops (under share_lock). */
    pthread_mutex_t share_lock;
    shared_sock_t *shared;
    cnet__listen_share_t share;
};

/* ---- shared listening sockets --------------------------------------------- */

static bool same_key(const shared_sock_t *e, const struct sockaddr *sa, bool ipv6_only)
{
    if (e->key.ss_family != sa->sa_family || e->ipv6_only != ipv6_only)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)&e->key, *b = (const void *)sa;
        return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *a = (const void *)&e->key, *b = (const void *)sa;
    return a->sin6_port == b->sin6_port && a->sin6_scope_id == b->sin6_scope_id &&
           memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
}

/* A new bound and listening socket, as libuv's bind and listen would make it. */
static int open_listener(const struct sockaddr *sa, bool ipv6_only, int backlog, int *out)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int on = 1, err;
    socklen_t len =
        sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

    if (fd < 0)
        return -errno;
    /* libuv sets SO_REUSEADDR on every TCP bind; IPV6_V6ONLY as UV_TCP_IPV6ONLY does. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (sa->sa_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ipv6_only}, sizeof(int)) != 0) ||
        bind(fd, sa, len) != 0 || listen(fd, backlog) != 0) {
        err = -errno;
        close(fd);
        return err;
    }
    *out = fd;
    return 0;
}

static int share_get(void *ctx, const struct sockaddr *sa, bool ipv6_only, int backlog, int *fd,
                     void **ticket)
{
    cnet_workers_t *g = ctx;
    shared_sock_t *e;
    int err = 0, dupfd;

    pthread_mutex_lock(&g->share_lock);
    for (e = g->shared; e && !same_key(e, sa, ipv6_only); e = e->next)
        ;
    if (!e) {
        if (!(e = cnet__calloc(1, sizeof *e))) {
            err = CNET_ENOMEM;
            goto out;
        }
        if ((err = open_listener(sa, ipv6_only, backlog, &e->fd)) != 0) {
            cnet__free(e);
            goto out;
        }
        memcpy(&e->key, sa,
               sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in));
        e->ipv6_only = ipv6_only;
        e->next = g->shared;
        g->shared = e;
    }
    if ((dupfd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
        err = -errno;
        if (e->refs == 0) {
            g->shared = e->next; /* it was just made for us */
            close(e->fd);
            cnet__free(e);
        }
        goto out;
    }
    e->refs++;
    *fd = dupfd;
    *ticket = e;
out:
    pthread_mutex_unlock(&g->share_lock);
    return err;
}

static void share_put(void *ctx, void *ticket)
{
    cnet_workers_t *g = ctx;
    shared_sock_t *e = ticket, **pp;

    pthread_mutex_lock(&g->share_lock);
    if (--e->refs == 0) {
        for (pp = &g->shared; *pp != e; pp = &(*pp)->next)
            ;
        *pp = e->next;
        close(e->fd);
        cnet__free(e);
    }
    pthread_mutex_unlock(&g->share_lock);
}

/* ---- a worker's thread ------------------------------------------------------ */

/* Destroys every socket and server that has a libuv handle on the loop. */
static void sweep_one(uv_handle_t *h, void *arg)
{
    cnet_server_t *srv;
    cnet_socket_t *s;

    CNET__UNUSED(arg);
    if (uv_is_closing(h) || (h->type != UV_TCP && h->type != UV_NAMED_PIPE) || !h->data)
        return;
    if ((srv = cnet__server_from_handle(h)) != NULL) {
        cnet_server_destroy(srv);
        return;
    }
    s = h->data;
    if (&s->h.handle == h)
        cnet_socket_destroy(s);
}

static void on_sweep(uv_check_t *c)
{
    uv_walk(c->loop, sweep_one, NULL);
}

static void on_stop(cnet_loop_t *loop, int status, void *arg)
{
    worker_t *w = arg;
    int err;

    if (status != 0 || w->stopping)
        return;
    w->stopping = true;
    cnet__loop_hold(loop, false);
    uv_walk(loop->uv, sweep_one, NULL);
    /* Unref'd: it never keeps the loop running, it only catches late arrivals. */
    if ((err = uv_check_init(loop->uv, &w->sweeper)) == 0) {
        uv_unref((uv_handle_t *)&w->sweeper);
        if ((err = uv_check_start(&w->sweeper, on_sweep)) != 0)
            cnet__log(CNET_LOG_ERROR, "workers: worker %u: uv_check_start: %s", w->index,
                      cnet_err_name(cnet__err_from_uv(err)));
    } else {
        w->sweeper.type = UV_UNKNOWN_HANDLE; /* not initialised: nothing to close */
        cnet__log(CNET_LOG_ERROR, "workers: worker %u: uv_check_init: %s", w->index,
                  cnet_err_name(cnet__err_from_uv(err)));
    }
}

static void on_sweeper_closed(uv_handle_t *h)
{
    CNET__UNUSED(h);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    cnet_workers_t *g = w->group;
    cnet_loop_t *loop = cnet_loop_default();
    int rc, tries;

    if (!loop) {
        rc = CNET_ENOMEM;
    } else {
        loop->share = &g->share;
        cnet_loop_retain(loop); /* for cnet_workers_loop() posters, until stop returns */
        w->loop = loop;
        cnet__loop_hold(loop, true);
        rc = g->setup(loop, w->index, g->arg);
    }
    pthread_mutex_lock(&g->lock);
    g->setup_rc = rc;
    g->ready = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
    if (!loop)
        return NULL;

    if (rc != 0)
        on_stop(loop, 0, w); /* a failed setup shuts its own worker down */
    while (!w->stopping)
        cnet_loop_run(loop); /* returns early only on a cnet_loop_stop() */
    cnet_loop_run(loop);     /* until everything has closed */
    if (w->sweeper.type == UV_CHECK && !uv_is_closing((uv_handle_t *)&w->sweeper))
        uv_close((uv_handle_t *)&w->sweeper, on_sweeper_closed);
    for (tries = 0; (rc = cnet_loop_close(loop)) == CNET_ERR_LOOP_BUSY && tries < 3; tries++)
        cnet_loop_run_nowait(loop); /* ticks queued by the last closes */
    if (rc != 0)
        cnet__log(CNET_LOG_ERROR,
                  "workers: worker %u: loop not closed (%s): %zu object(s) still alive; leaked",
                  w->index, cnet_err_name(rc), cnet_loop_alive(loop));
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------ */

static void group_free(cnet_workers_t *g)
{
    unsigned i;

    for (i = 0; i < g->n; i++)
        cnet_loop_release(g->w[i].loop); /* NULL-safe */
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->share_lock);
    cnet__free(g->w);
    cnet__free(g);
}

/* Posts the shutdown to every started worker and joins them. */
static void stop_all(cnet_workers_t *g)
{
    unsigned i;

    for (i = 0; i < g->n; i++) {
        worker_t *w = &g->w[i];
        if (!w->thread_started || !w->loop)
            continue;
        w->stop.fn = on_stop;
        w->stop.arg = w;
        w->stop.embedded = true;
        /* Fails only once the loop closed: that worker is already on its way out. */
        cnet__loop_post_embedded(w->loop, &w->stop);
    }
    for (i = 0; i < g->n; i++)
        if (g->w[i].thread_started)
            pthread_join(g->w[i].tid, NULL);
}

int cnet_workers_start(unsigned n, cnet_worker_setup_fn setup, void *arg, cnet_workers_t **out)
{
    cnet_workers_t *g;
    unsigned i;
    int rc = 0;

    if (!out || !setup)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    if (n < 1 || n > MAX_WORKERS)
        return CNET_ERR_OUT_OF_RANGE;
    if (!(g = cnet__calloc(1, sizeof *g)))
        return CNET_ENOMEM;
    if (!(g->w = cnet__calloc(n, sizeof *g->w))) {
        cnet__free(g);
        return CNET_ENOMEM;
    }
    g->n = n;
    g->setup = setup;
    g->arg = arg;
    g->share.get = share_get;
    g->share.put = share_put;
    g->share.ctx = g;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    pthread_mutex_init(&g->share_lock, NULL);

    for (i = 0; i < n && rc == 0; i++) {
        worker_t *w = &g->w[i];
        int err;

        w->group = g;
        w->index = i;
        g->ready = false;
        if ((err = pthread_create(&w->tid, NULL, worker_main, w)) != 0) {
            rc = -err;
            break;
        }
        w->thread_started = true;
        pthread_mutex_lock(&g->lock);
        while (!g->ready)
            pthread_cond_wait(&g->cond, &g->lock);
        rc = g->setup_rc;
        pthread_mutex_unlock(&g->lock);
    }
    if (rc != 0) {
        stop_all(g);
        group_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

int cnet_workers_stop(cnet_workers_t *g)
{
    pthread_t self = pthread_self();
    unsigned i;

    if (!g)
        return CNET_ERR_INVALID_ARG_TYPE;
    for (i = 0; i < g->n; i++)
        if (g->w[i].thread_started && pthread_equal(g->w[i].tid, self))
            return CNET_ERR_WRONG_THREAD;
    stop_all(g);
    group_free(g);
    return 0;
}

unsigned cnet_workers_count(const cnet_workers_t *g)
{
    return g ? g->n : 0;
}

cnet_loop_t *cnet_workers_loop(const cnet_workers_t *g, unsigned index)
{
    return g && index < g->n ? g->w[index].loop : NULL;
}
