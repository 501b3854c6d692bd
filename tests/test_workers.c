/*
 * Many cores on one port: listen's reuse_port (SO_REUSEPORT) and exclusive
 * (a listening socket shared by a worker group), cnet_loop_post() from many
 * threads (per-poster order, never inside the call, after-close error, every
 * posted function called exactly once), and cnet_workers_start/stop: N
 * threads serving one port, connections reaching more than one worker,
 * failing setups, stop while connections are open. Also run under
 * ThreadSanitizer (make tsan).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#define MAXW 4

/* ---- helpers -------------------------------------------------------------- */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A port of 127.0.0.1 kept bound (not listening) with SO_REUSEPORT, so that
 * reuse_port servers can join it and nobody else takes it meanwhile. */
static int reserve_reuseport(int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int on = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on));
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sa, &len));
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A blocking client on 127.0.0.1:port with a 10 s receive timeout. */
static int client_connect(int port)
{
    struct sockaddr_in sa;
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sa, sizeof sa));
    return fd;
}

/* ---- a worker group that says who served each connection ------------------- */

typedef struct group {
    int port; /* 0: listen on port 0 */
    bool reuse_port;
    bool exclusive;
    int fail_index; /* setup of this index fails (-1: none) */
    bool hold_open; /* connections stay open (no greeting, no end) */
    atomic_int setups;
    atomic_int listening;
    atomic_int errors;
    atomic_int served[MAXW];
    atomic_int sock_closes;
    atomic_int srv_closes;
    atomic_int bound_port[MAXW];
    pthread_t tid[MAXW];
} group_t;

static void on_sock_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    atomic_fetch_add(&((group_t *)arg)->sock_closes, 1);
}

static void on_conn(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    group_t *g = arg;
    unsigned index = (unsigned)(uintptr_t)cnet_server_get_data(srv);
    char who = (char)('0' + index);

    atomic_fetch_add(&g->served[index], 1);
    ASSERT_OK(cnet_socket_on(ev->connection, CNET_EVENT_CLOSE, on_sock_close, g));
    if (g->hold_open) {
        ASSERT_OK(cnet_socket_write(ev->connection, &who, 1, NULL, NULL));
        return;
    }
    ASSERT_OK(cnet_socket_end(ev->connection, &who, 1, NULL, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    group_t *g = arg;
    unsigned index = (unsigned)(uintptr_t)cnet_server_get_data(srv);
    cnet_address_t a;

    ASSERT_OK(cnet_server_address(srv, &a));
    atomic_store(&g->bound_port[index], a.port);
    atomic_fetch_add(&g->listening, 1);
}

static void on_srv_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    fprintf(stderr, "server error: %s\n", ev->error->message);
    atomic_fetch_add(&((group_t *)arg)->errors, 1);
}

static void on_srv_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    atomic_fetch_add(&((group_t *)arg)->srv_closes, 1);
}

static int setup_server(cnet_loop_t *loop, unsigned index, void *arg)
{
    group_t *g = arg;
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;
    cnet_server_t *srv;

    ASSERT(loop == cnet_loop_default()); /* the worker's loop is its thread's default */
    g->tid[index] = pthread_self();
    ASSERT_EQ(index, atomic_fetch_add(&g->setups, 1)); /* in index order, one at a time */
    if ((int)index == g->fail_index)
        return CNET_EADDRNOTAVAIL;
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    cnet_server_set_data(srv, (void *)(uintptr_t)index);
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, on_conn, g));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_ERROR, on_srv_error, g));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CLOSE, on_srv_close, g));
    lo.port = g->port;
    lo.host = "127.0.0.1";
    lo.reuse_port = g->reuse_port;
    lo.exclusive = g->exclusive;
    ASSERT_OK(cnet_server_listen_opts(srv, &lo, on_listening, g));
    return 0;
}

static void wait_listening(group_t *g, int n)
{
    int i;
    for (i = 0; i < 5000 && atomic_load(&g->listening) + atomic_load(&g->errors) < n; i++)
        sleep_ms(1);
    ASSERT_EQ(0, atomic_load(&g->errors));
    ASSERT_EQ(n, atomic_load(&g->listening));
}

static void group_init(group_t *g)
{
    memset(g, 0, sizeof *g);
    g->fail_index = -1;
}

/* Opens @p nconn connections one after the other; each reads who served it. With
 * @p spread, at least two workers must have served some (reuseport's 4-tuple hash:
 * all 64 on one of 2 workers has a probability of 2^-63). */
static void connect_many(int port, int nconn, int nworkers, bool spread)
{
    int seen[MAXW] = {0}, i, total = 0, used = 0;

    for (i = 0; i < nconn; i++) {
        char c = 0;
        int fd = client_connect(port);
        ASSERT_EQ(1, recv(fd, &c, 1, 0));
        ASSERT(c >= '0' && c < '0' + nworkers);
        seen[c - '0']++;
        close(fd);
    }
    for (i = 0; i < nworkers; i++) {
        total += seen[i];
        used += seen[i] > 0;
    }
    ASSERT_EQ(nconn, total);
    if (spread)
        ASSERT(used >= 2);
    fprintf(stderr, "  %d connections over %d workers:", nconn, nworkers);
    for (i = 0; i < nworkers; i++)
        fprintf(stderr, " %d", seen[i]);
    fputc('\n', stderr);
}

/* ---- reuse_port on one loop ------------------------------------------------- */

static int single_errors, single_listening, single_last_error;

static void single_on_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    single_errors++;
    single_last_error = ev->error->code;
    ASSERT_STR_EQ("listen", ev->error->syscall);
}

static void single_on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    single_listening++;
}

/* Two servers of one loop share a port with reuse_port; without it, EADDRINUSE. */
static void test_reuse_port_one_loop(void)
{
    cnet_loop_t *loop;
    cnet_server_t *a, *b, *c;
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;
    int port, rfd = reserve_reuseport(&port);

    test_set_phase("reuse_port one loop");
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_server_new(loop, NULL, &a));
    ASSERT_OK(cnet_server_new(loop, NULL, &b));
    ASSERT_OK(cnet_server_new(loop, NULL, &c));
    ASSERT_OK(cnet_server_on(a, CNET_EVENT_ERROR, single_on_error, NULL));
    ASSERT_OK(cnet_server_on(b, CNET_EVENT_ERROR, single_on_error, NULL));
    ASSERT_OK(cnet_server_on(c, CNET_EVENT_ERROR, single_on_error, NULL));
    lo.port = port;
    lo.host = "127.0.0.1";
    lo.reuse_port = true;
    ASSERT_OK(cnet_server_listen_opts(a, &lo, single_on_listening, NULL));
    ASSERT_OK(cnet_server_listen_opts(b, &lo, single_on_listening, NULL));
    lo.reuse_port = false; /* the port's other sockets have SO_REUSEPORT, this one not */
    ASSERT_OK(cnet_server_listen_opts(c, &lo, single_on_listening, NULL));
    while (single_listening + single_errors < 3)
        cnet_loop_run_nowait(loop);
    ASSERT_EQ(2, single_listening);
    ASSERT_EQ(1, single_errors);
    ASSERT_ERR(CNET_EADDRINUSE, single_last_error);
    ASSERT(cnet_server_is_listening(a) && cnet_server_is_listening(b));
    ASSERT(!cnet_server_is_listening(c));
    cnet_server_destroy(a);
    cnet_server_destroy(b);
    cnet_server_destroy(c);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_OK(cnet_loop_close(loop));
    close(rfd);
}

/* ---- workers: reuse_port, shared, exclusive ---------------------------------- */

static void test_workers_reuse_port(int n)
{
    group_t g;
    cnet_workers_t *w;
    int i, rfd;

    test_set_phase("workers reuse_port");
    group_init(&g);
    rfd = reserve_reuseport(&g.port);
    g.reuse_port = true;
    ASSERT_OK(cnet_workers_start((unsigned)n, setup_server, &g, &w));
    ASSERT_EQ(n, cnet_workers_count(w));
    ASSERT_EQ(n, atomic_load(&g.setups));
    for (i = 0; i < n; i++) {
        ASSERT(cnet_workers_loop(w, (unsigned)i) != NULL);
        ASSERT(!pthread_equal(g.tid[i], pthread_self()));
    }
    ASSERT(cnet_workers_loop(w, (unsigned)n) == NULL);
    wait_listening(&g, n);
    close(rfd); /* the servers hold the port now */
    connect_many(g.port, 64, n, true);
    ASSERT_OK(cnet_workers_stop(w));
    ASSERT_EQ(64, atomic_load(&g.sock_closes));
    ASSERT_EQ(n, atomic_load(&g.srv_closes));
}

/* exclusive false (the default) on workers: one socket, port 0 included. */
static void test_workers_shared(void)
{
    group_t g;
    cnet_workers_t *w;
    int i, n = 3;

    test_set_phase("workers shared");
    group_init(&g);
    ASSERT_OK(cnet_workers_start((unsigned)n, setup_server, &g, &w));
    wait_listening(&g, n);
    for (i = 1; i < n; i++)
        ASSERT_EQ(atomic_load(&g.bound_port[0]), atomic_load(&g.bound_port[i]));
    connect_many(atomic_load(&g.bound_port[0]), 32, n, false); /* no spread promised */
    ASSERT_OK(cnet_workers_stop(w));
    ASSERT_EQ(32, atomic_load(&g.sock_closes));
    ASSERT_EQ(n, atomic_load(&g.srv_closes));
}

/* exclusive true: every worker binds its own socket (port 0: different ports). */
static void test_workers_exclusive(void)
{
    group_t g;
    cnet_workers_t *w;
    int n = 2;

    test_set_phase("workers exclusive");
    group_init(&g);
    g.exclusive = true;
    ASSERT_OK(cnet_workers_start((unsigned)n, setup_server, &g, &w));
    wait_listening(&g, n);
    ASSERT_NE(atomic_load(&g.bound_port[0]), atomic_load(&g.bound_port[1]));
    ASSERT_OK(cnet_workers_stop(w));
    ASSERT_EQ(n, atomic_load(&g.srv_closes));
}

/* A failing setup: start returns its code, later workers never start, earlier ones stop. */
static void test_workers_setup_fails(void)
{
    group_t g;
    cnet_workers_t *w = (cnet_workers_t *)&g;

    test_set_phase("setup fails");
    group_init(&g);
    g.fail_index = 1;
    ASSERT_ERR(CNET_EADDRNOTAVAIL, cnet_workers_start(3, setup_server, &g, &w));
    ASSERT(w == NULL);
    ASSERT_EQ(2, atomic_load(&g.setups));
    ASSERT_EQ(1, atomic_load(&g.srv_closes)); /* worker 0's server was closed */

    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE, cnet_workers_start(0, setup_server, &g, &w));
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE, cnet_workers_start(100000, setup_server, &g, &w));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_workers_start(1, NULL, &g, &w));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_workers_start(1, setup_server, &g, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_workers_stop(NULL));
    ASSERT_EQ(0, cnet_workers_count(NULL));
    ASSERT(cnet_workers_loop(NULL, 0) == NULL);
}

/* Stop with connections open: the servers close, the sockets are destroyed. */
static void test_workers_stop_with_connections(void)
{
    group_t g;
    cnet_workers_t *w;
    int fds[16], i, n = 2, rfd, total = 0;

    test_set_phase("stop with open connections");
    group_init(&g);
    rfd = reserve_reuseport(&g.port);
    g.reuse_port = true;
    g.hold_open = true;
    ASSERT_OK(cnet_workers_start((unsigned)n, setup_server, &g, &w));
    wait_listening(&g, n);
    close(rfd);
    for (i = 0; i < 16; i++) {
        char c;
        fds[i] = client_connect(g.port);
        ASSERT_EQ(1, recv(fds[i], &c, 1, 0)); /* accepted and greeted */
        ASSERT_EQ(4, send(fds[i], "data", 4, MSG_NOSIGNAL));
    }
    for (i = 0; i < n; i++)
        total += atomic_load(&g.served[i]);
    ASSERT_EQ(16, total);
    ASSERT_OK(cnet_workers_stop(w));
    ASSERT_EQ(16, atomic_load(&g.sock_closes));
    ASSERT_EQ(n, atomic_load(&g.srv_closes));
    for (i = 0; i < 16; i++) {
        char c;
        ssize_t r = recv(fds[i], &c, 1, 0); /* destroyed: FIN, or RST for unread data */
        ASSERT(r == 0 || (r < 0 && errno == ECONNRESET));
        close(fds[i]);
    }
    /* Nobody listens any more. */
    {
        struct sockaddr_in sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons((uint16_t)g.port);
        ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sa, sizeof sa));
        ASSERT_EQ(ECONNREFUSED, errno);
        close(fd);
    }
}

/* ---- cnet_loop_post ------------------------------------------------------------ */

#define POSTERS 4
#define POSTS   2000

typedef struct post_state {
    pthread_t loop_tid;
    int last[POSTERS]; /* worker thread only */
    atomic_int ran, cancelled, wrong_thread;
    atomic_bool done;
    cnet_loop_t *loop;
} post_state_t;

typedef struct post_item {
    post_state_t *st;
    int poster, seq;
} post_item_t;

static void on_posted(cnet_loop_t *loop, int status, void *arg)
{
    post_item_t *it = arg;
    post_state_t *st = it->st;

    if (status == 0) {
        if (!pthread_equal(pthread_self(), st->loop_tid) || loop != st->loop)
            atomic_fetch_add(&st->wrong_thread, 1);
        ASSERT(it->seq > st->last[it->poster]); /* per-poster order */
        st->last[it->poster] = it->seq;
        atomic_fetch_add(&st->ran, 1);
    } else {
        ASSERT_ERR(CNET_ERR_LOOP_CLOSED, status);
        atomic_fetch_add(&st->cancelled, 1);
    }
    free(it);
}

static void *poster_main(void *arg)
{
    post_item_t *first = arg;
    post_state_t *st = first->st;
    int poster = first->poster, i;

    free(first);
    for (i = 1; i <= POSTS; i++) {
        post_item_t *it = malloc(sizeof *it);
        ASSERT(it);
        it->st = st;
        it->poster = poster;
        it->seq = i;
        ASSERT_OK(cnet_loop_post(st->loop, on_posted, it));
        if (i % 500 == 0)
            sched_yield();
    }
    return NULL;
}

static void on_done(cnet_loop_t *loop, int status, void *arg)
{
    ASSERT_OK(status);
    atomic_store(&((post_state_t *)arg)->done, true);
}

static int posted_in_setup;

static void on_setup_post(cnet_loop_t *loop, int status, void *arg)
{
    ASSERT_OK(status);
    posted_in_setup = 2;
}

static int setup_post(cnet_loop_t *loop, unsigned index, void *arg)
{
    post_state_t *st = arg;
    int i;

    st->loop_tid = pthread_self();
    st->loop = loop;
    for (i = 0; i < POSTERS; i++)
        st->last[i] = 0;
    /* Posting to one's own loop: never runs inside the call. */
    posted_in_setup = 1;
    ASSERT_OK(cnet_loop_post(loop, on_setup_post, NULL));
    ASSERT_EQ(1, posted_in_setup);
    return 0;
}

static void test_post_many_threads(void)
{
    post_state_t st;
    cnet_workers_t *w;
    pthread_t t[POSTERS];
    int i;

    test_set_phase("post from many threads");
    memset(&st, 0, sizeof st);
    ASSERT_OK(cnet_workers_start(1, setup_post, &st, &w));
    ASSERT(st.loop == cnet_workers_loop(w, 0));
    for (i = 0; i < POSTERS; i++) {
        post_item_t *first = malloc(sizeof *first);
        first->st = &st;
        first->poster = i;
        ASSERT_EQ(0, pthread_create(&t[i], NULL, poster_main, first));
    }
    for (i = 0; i < POSTERS; i++)
        pthread_join(t[i], NULL);
    ASSERT_OK(cnet_loop_post(st.loop, on_done, &st)); /* after everything posted above */
    for (i = 0; i < 10000 && !atomic_load(&st.done); i++)
        sleep_ms(1);
    ASSERT(atomic_load(&st.done));
    ASSERT_EQ(POSTERS * POSTS, atomic_load(&st.ran));
    ASSERT_EQ(0, atomic_load(&st.wrong_thread));
    ASSERT_EQ(0, atomic_load(&st.cancelled));
    ASSERT_OK(cnet_workers_stop(w));
    ASSERT_EQ(2, posted_in_setup);
}

/* A poster racing the stop: every accepted post is called exactly once. */
typedef struct race {
    cnet_loop_t *loop;
    atomic_int accepted, refused, called;
    atomic_bool go;
} race_t;

static void on_race(cnet_loop_t *loop, int status, void *arg)
{
    ASSERT(status == 0 || status == CNET_ERR_LOOP_CLOSED);
    atomic_fetch_add(&((race_t *)arg)->called, 1);
}

static void *racer_main(void *arg)
{
    race_t *r = arg;
    int refused_in_a_row = 0;

    while (!atomic_load(&r->go))
        sched_yield();
    while (refused_in_a_row < 100) {
        int err = cnet_loop_post(r->loop, on_race, r);
        if (err == 0) {
            if ((atomic_fetch_add(&r->accepted, 1) & 63) == 63)
                sleep_ms(1); /* a few thousand posts, not millions (TSan, valgrind) */
            refused_in_a_row = 0;
        } else {
            ASSERT_ERR(CNET_ERR_LOOP_CLOSED, err);
            atomic_fetch_add(&r->refused, 1);
            refused_in_a_row++;
        }
    }
    return NULL;
}

static int setup_nothing(cnet_loop_t *loop, unsigned index, void *arg)
{
    return 0;
}

static void test_post_races_stop(void)
{
    race_t r;
    cnet_workers_t *w;
    pthread_t t[2];
    int i;

    test_set_phase("post races stop");
    memset(&r, 0, sizeof r);
    ASSERT_OK(cnet_workers_start(1, setup_nothing, NULL, &w));
    r.loop = cnet_workers_loop(w, 0);
    cnet_loop_retain(r.loop); /* our racers outlive the stop */
    for (i = 0; i < 2; i++)
        ASSERT_EQ(0, pthread_create(&t[i], NULL, racer_main, &r));
    atomic_store(&r.go, true);
    sleep_ms(20);
    ASSERT_OK(cnet_workers_stop(w));
    for (i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ASSERT(atomic_load(&r.refused) >= 200);
    ASSERT_EQ(atomic_load(&r.accepted), atomic_load(&r.called));
    ASSERT_ERR(CNET_ERR_LOOP_CLOSED, cnet_loop_post(r.loop, on_race, &r));
    cnet_loop_release(r.loop);
    fprintf(stderr, "  %d posts ran or were cancelled, %d refused after close\n",
            atomic_load(&r.accepted), atomic_load(&r.refused));
}

/* A loop that never runs: close cancels what was posted, later posts fail. */
static int cancelled_calls;

static void on_cancelled(cnet_loop_t *loop, int status, void *arg)
{
    ASSERT_ERR(CNET_ERR_LOOP_CLOSED, status);
    ASSERT_ERR(CNET_ERR_LOOP_CLOSED, cnet_loop_post(loop, on_cancelled, arg));
    cancelled_calls++;
}

static void on_runs(cnet_loop_t *loop, int status, void *arg)
{
    ASSERT_OK(status);
    (*(int *)arg)++;
}

static void test_post_after_close(void)
{
    cnet_loop_t *loop;
    int runs = 0;

    test_set_phase("post after close");
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_loop_post(NULL, on_runs, &runs));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_loop_post(loop, NULL, &runs));
    /* A post does not keep the loop running, but runs when it runs. */
    ASSERT_OK(cnet_loop_post(loop, on_runs, &runs));
    ASSERT_EQ(0, runs);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(1, runs);
    cnet_loop_retain(loop);
    ASSERT_OK(cnet_loop_post(loop, on_cancelled, NULL));
    ASSERT_OK(cnet_loop_post(loop, on_cancelled, NULL));
    ASSERT_OK(cnet_loop_close(loop));
    ASSERT_EQ(2, cancelled_calls);
    ASSERT_ERR(CNET_ERR_LOOP_CLOSED, cnet_loop_post(loop, on_runs, &runs));
    cnet_loop_release(loop);
}

/* cnet_workers_stop() from a worker's own thread is refused. */
static cnet_workers_t *self_group;
static atomic_int self_stop_rc;

static void on_self_stop(cnet_loop_t *loop, int status, void *arg)
{
    atomic_store(&self_stop_rc, cnet_workers_stop(self_group));
}

static void test_stop_from_worker(void)
{
    int i;

    test_set_phase("stop from a worker");
    atomic_store(&self_stop_rc, 1);
    ASSERT_OK(cnet_workers_start(2, setup_nothing, NULL, &self_group));
    ASSERT_OK(cnet_loop_post(cnet_workers_loop(self_group, 1), on_self_stop, NULL));
    for (i = 0; i < 5000 && atomic_load(&self_stop_rc) == 1; i++)
        sleep_ms(1);
    ASSERT_ERR(CNET_ERR_WRONG_THREAD, atomic_load(&self_stop_rc));
    ASSERT_OK(cnet_workers_stop(self_group));
}

int main(void)
{
    int n;

    test_watchdog(60);
    test_reuse_port_one_loop();
    for (n = 2; n <= MAXW; n++)
        test_workers_reuse_port(n);
    test_workers_shared();
    test_workers_exclusive();
    test_workers_setup_fails();
    test_workers_stop_with_connections();
    test_post_after_close();
    test_post_many_threads();
    test_post_races_stop();
    test_stop_from_worker();
    fprintf(stderr, "test_workers: ok\n");
    return 0;
}
