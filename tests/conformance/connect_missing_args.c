/* Item 4 of issue 8: NULL connect options are ERR_MISSING_ARGS; see the .js. */
#include "conformance.h"

static void report(const char *name, int r)
{
    if (r == 0)
        conf_log("%s returned", name);
    else
        conf_log("%s throws %s", name, cnet_err_name(r));
}

int main(void)
{
    cnet_socket_t *s = NULL, *t;

    conf_deadline(5);
    report("connect", cnet_create_connection(NULL, NULL, NULL, NULL, &s));
    if (s)
        conf_log("UNEXPECTED socket created");
    report("createConnection", cnet_create_connection(NULL, NULL, NULL, NULL, &s));
    CONF_OK(cnet_socket_new(NULL, NULL, &t));
    report("socket.connect", cnet_socket_connect_opts(t, NULL, NULL, NULL));
    cnet_socket_destroy(t);
    return cnet_run();
}
