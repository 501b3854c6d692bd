/* Item 5 of issue 8; the same steps as server_pipe_mode.js. */
#include "conformance.h"

#include <sys/stat.h>

typedef struct mode_case {
    const char *name;
    bool readable_all, writable_all;
} mode_case_t;

static const mode_case_t cases[] = {
    {"none", false, false},
    {"readable", true, false},
    {"writable", false, true},
    {"both", true, true},
};
static size_t cur;
static char path[64];

static void run(void);

static void on_closed(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    if (++cur < sizeof cases / sizeof cases[0])
        run();
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    struct stat st;
    if (stat(path, &st) != 0)
        conf_log("%s stat failed", cases[cur].name);
    else
        conf_log("%s %o", cases[cur].name, (unsigned)(st.st_mode & 07777));
    CONF_OK(cnet_server_close(srv, on_closed, NULL));
}

static void run(void)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    cnet_server_t *srv;

    snprintf(path, sizeof path, "mode-%s.sock", cases[cur].name);
    o.path = path;
    o.readable_all = cases[cur].readable_all;
    o.writable_all = cases[cur].writable_all;
    CONF_OK(cnet_server_new(NULL, NULL, &srv));
    CONF_OK(cnet_server_listen_opts(srv, &o, on_listening, NULL));
}

int main(void)
{
    conf_deadline(5);
    umask(077);
    run();
    return cnet_run();
}
