/* Item 2 of issue 8; the same steps as server_close_not_running.js. */
#include "conformance.h"


static void log_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    conf_log("%s", (const char *)arg);
    (void)srv;
    (void)ev;
}

/* A close(cb) callback: prints "<side> <name> <code or ->". */
static void close_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    conf_log("%s %s", (const char *)arg, ev->error ? cnet_err_name(ev->error->code) : "-");
}

static void never(void);
static void with_connection(void);
static void pending(void);
static void done(void);

/* A */
static int a_closes;

static void a_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    if (ev->error)
        conf_log("a close listener saw an error");
    conf_log("a close %d", ++a_closes);
    if (a_closes == 2)
        CONF_OK(cnet_server_close(srv, close_cb, "a cb3"));
    if (a_closes == 3)
        never();
}

static void a_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_server_close(srv, close_cb, "a cb1"));
    CONF_OK(cnet_server_close(srv, close_cb, "a cb2"));
    conf_log("a closed twice %s", cnet_server_is_listening(srv) ? "true" : "false");
}

static void twice(void)
{
    cnet_server_t *a;
    CONF_OK(cnet_server_new(NULL, NULL, &a));
    CONF_OK(cnet_server_on(a, CNET_EVENT_CLOSE, a_close, NULL));
    CONF_OK(cnet_server_listen(a, 0, "127.0.0.1", a_listening, NULL));
}

/* B */
static void b_next(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    with_connection();
}

static void never(void)
{
    cnet_server_t *b;
    CONF_OK(cnet_server_new(NULL, NULL, &b));
    CONF_OK(cnet_server_on(b, CNET_EVENT_CLOSE, log_cb, "b close"));
    CONF_OK(cnet_server_close(b, close_cb, "b cb1"));
    CONF_OK(cnet_server_once(b, CNET_EVENT_CLOSE, b_next, NULL));
}

/* C */
static void c_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    conf_log("c connection");
    CONF_OK(cnet_server_close(srv, close_cb, "c cb1"));
    CONF_OK(cnet_server_close(srv, close_cb, "c cb2"));
    cnet_socket_destroy(ev->connection);
}

static void c_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    conf_log("c close");
    pending();
}

static void c_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    if (!cnet_connect(a.port, "127.0.0.1", NULL, NULL))
        conf_log("CALL FAILED cnet_connect");
}

static void with_connection(void)
{
    cnet_server_t *c;
    CONF_OK(cnet_server_new(NULL, NULL, &c));
    CONF_OK(cnet_server_on(c, CNET_EVENT_CONNECTION, c_connection, NULL));
    CONF_OK(cnet_server_on(c, CNET_EVENT_CLOSE, c_close, NULL));
    CONF_OK(cnet_server_listen(c, 0, "127.0.0.1", c_listening, NULL));
}

/* D */
static void d_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    conf_log("d close %s", cnet_server_is_listening(srv) ? "true" : "false");
    done();
}

static void pending(void)
{
    cnet_server_t *d;
    CONF_OK(cnet_server_new(NULL, NULL, &d));
    CONF_OK(cnet_server_on(d, CNET_EVENT_LISTENING, log_cb, "d listening"));
    CONF_OK(cnet_server_on(d, CNET_EVENT_CLOSE, d_close, NULL));
    CONF_OK(cnet_server_listen(d, 0, "127.0.0.1", NULL, NULL));
    CONF_OK(cnet_server_close(d, close_cb, "d cb1"));
}

static void done(void)
{
    conf_log("done");
}

int main(void)
{
    conf_deadline(5);
    twice();
    return cnet_run();
}
