/*
 * Command line: ncat's option names and meanings (ncat 7.93's --help), its
 * time syntax ("500ms", "2s", "1m", "1h"; plain numbers are seconds) and
 * its exit code 2 for anything wrong with the command line.
 */
#include "cnetcat.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void nc_log(const char *fmt, ...)
{
    va_list ap;
    fputs("cnetcat: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char *nc_strerror(int code, char *buf, size_t size)
{
    snprintf(buf, size, "%s", cnet_strerror(code));
    if (buf[0])
        buf[0] = (char)toupper((unsigned char)buf[0]);
    return buf;
}

/* The parser's streams and file opener (nc_parse_io_t), set per call. */
static FILE *out_f, *err_f;
static FILE *(*open_fn)(const char *path, void *arg);
static void *open_arg;

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("cnetcat: ", err_f);
    va_start(ap, fmt);
    vfprintf(err_f, fmt, ap);
    va_end(ap);
    fputs(" QUITTING.\n", err_f);
    return NC_EXIT_USAGE;
}

/* ncat's time syntax; 0 and negative times are refused, as by ncat. */
static int parse_time(const char *s, uint64_t *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    double scale = 1000;

    /* !(v > 0), not v <= 0: "nan" must fail here too (converting it is undefined). */
    if (end == s || errno || !(v > 0))
        return -1;
    if (strcmp(end, "ms") == 0)
        scale = 1;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        scale = 1000;
    else if (strcmp(end, "m") == 0)
        scale = 60000;
    else if (strcmp(end, "h") == 0)
        scale = 3600000;
    else
        return -1;
    v *= scale;
    if (v < 1 || v > 2147483000.0)
        return -1;
    *ms = (uint64_t)v;
    return 0;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/*
 * One --allow/--deny spec: an IPv4 or IPv6 address, or one with a /prefix
 * (CIDR). Names and nmap's octet ranges ("10.0.0.1-20") are not supported.
 */
static int add_spec(cnet_blocklist_t **list, const char *spec)
{
    char buf[128];
    const char *slash = strchr(spec, '/');
    int family, prefix, err;

    if (!*list && cnet_blocklist_new(list) != 0)
        return CNET_ENOMEM;
    if (!slash) {
        family = cnet_is_ip(spec);
        if (!family)
            return CNET_ERR_INVALID_ADDRESS;
        return cnet_blocklist_add_address(*list, spec, family);
    }
    if ((size_t)(slash - spec) >= sizeof buf)
        return CNET_ERR_INVALID_ADDRESS;
    memcpy(buf, spec, (size_t)(slash - spec));
    buf[slash - spec] = '\0';
    if (!(family = cnet_is_ip(buf)))
        return CNET_ERR_INVALID_ADDRESS;
    if (parse_int(slash + 1, 0, family == 4 ? 32 : 128, &prefix) != 0)
        return CNET_ERR_OUT_OF_RANGE;
    err = cnet_blocklist_add_subnet(*list, buf, prefix, family);
    return err;
}

/* A comma- or space-separated list of specs, as ncat takes them. */
static int add_specs(cnet_blocklist_t **list, const char *specs)
{
    char *copy = strdup(specs), *save = NULL;
    int err = copy ? 0 : CNET_ENOMEM;

    for (char *t = copy ? strtok_r(copy, ", \t", &save) : NULL; t && !err;
         t = strtok_r(NULL, ", \t", &save))
        if ((err = add_spec(list, t)) != 0)
            fprintf(err_f, "cnetcat: Invalid address or range \"%s\".\n", t);
    free(copy);
    return err;
}

/* A file of specs: one or more per line, '#' starts a comment. A NUL byte or
 * a line longer than any list of specs is refused: that is no host file, and
 * /dev/zero would otherwise be read for ever. */
static int add_spec_file(cnet_blocklist_t **list, const char *path)
{
    FILE *f = open_fn ? open_fn(path, open_arg) : fopen(path, "r");
    char line[4096];
    size_t n = 0;
    int c = 0, err = 0;

    if (!f)
        return -errno;
    if (!*list && cnet_blocklist_new(list) != 0)
        err = CNET_ENOMEM;
    while (!err && c != EOF) {
        c = getc(f);
        if (c == '\0' || (n == sizeof line - 1 && c != '\n' && c != EOF)) {
            err = CNET_EINVAL;
        } else if (c == '\n' || c == EOF) {
            line[n] = '\0';
            line[strcspn(line, "#\r")] = '\0';
            err = add_specs(list, line);
            n = 0;
        } else {
            line[n++] = (char)c;
        }
    }
    fclose(f);
    return err;
}

static void print_help(FILE *out)
{
    fputs("Usage: cnetcat [options] [hostname] [port]\n"
          "\n"
          "Options taking a time assume seconds. Append 'ms' for milliseconds,\n"
          "'s' for seconds, 'm' for minutes, or 'h' for hours (e.g. 500ms).\n"
          "  -4                         Use IPv4 only\n"
          "  -6                         Use IPv6 only\n"
          "  -U, --unixsock             Use Unix domain sockets only\n"
          "  -C, --crlf                 Use CRLF for EOL sequence\n"
          "  -c, --sh-exec <command>    Executes the given command via /bin/sh\n"
          "  -e, --exec <command>       Executes the given command\n"
          "  -m, --max-conns <n>        Maximum <n> simultaneous connections\n"
          "  -h, --help                 Display this help screen\n"
          "  -o, --output <filename>    Dump session data to a file\n"
          "  -x, --hex-dump <filename>  Dump session data as hex to a file\n"
          "  -i, --idle-timeout <time>  Idle read/write timeout\n"
          "  -p, --source-port port     Specify source port to use\n"
          "  -s, --source addr          Specify source address to use (doesn't affect -l)\n"
          "  -l, --listen               Bind and listen for incoming connections\n"
          "  -k, --keep-open            Accept multiple connections in listen mode\n"
          "  -n, --nodns                Accepted for ncat compatibility (names still resolve)\n"
          "  -v, --verbose              Set verbosity level (can be used several times)\n"
          "  -w, --wait <time>          Connect timeout\n"
          "  -z                         Zero-I/O mode, report connection status only\n"
          "      --append-output        Append rather than clobber specified output files\n"
          "      --send-only            Only send data, ignoring received; quit on EOF\n"
          "      --recv-only            Only receive data, never send anything\n"
          "      --no-shutdown          Continue half-duplex when receiving EOF on stdin\n"
          "      --allow                Allow only given hosts to connect to cnetcat\n"
          "      --allowfile            A file of hosts allowed to connect to cnetcat\n"
          "      --deny                 Deny given hosts from connecting to cnetcat\n"
          "      --denyfile             A file of hosts denied from connecting to cnetcat\n"
          "      --broker               Enable connection brokering mode\n"
          "      --chat                 Start a simple chat server\n"
          "      --ssl                  Connect or listen with TLS\n"
          "      --ssl-cert             Specify TLS certificate file (PEM) for listening\n"
          "      --ssl-key              Specify TLS private key (PEM) for listening\n"
          "      --ssl-verify           Verify trust and domain name of certificates\n"
          "      --ssl-trustfile        PEM file containing trusted TLS certificates\n"
          "      --ssl-ciphers          Cipherlist containing TLS ciphers to use\n"
          "      --ssl-servername       Request distinct server name (SNI)\n"
          "      --ssl-alpn             ALPN protocol list to use\n"
          "      --version              Display cnetcat's version information and exit\n"
          "\n"
          "Hosts for --allow/--deny: IPv4 or IPv6 addresses and CIDR ranges (10.0.0.0/8).\n"
          "See the cnetcat(1) manpage for full options, descriptions and usage examples\n",
          out);
}

enum {
    OPT_SEND_ONLY = 256,
    OPT_RECV_ONLY,
    OPT_NO_SHUTDOWN,
    OPT_ALLOW,
    OPT_ALLOWFILE,
    OPT_DENY,
    OPT_DENYFILE,
    OPT_BROKER,
    OPT_CHAT,
    OPT_APPEND,
    OPT_SSL,
    OPT_SSL_CERT,
    OPT_SSL_KEY,
    OPT_SSL_VERIFY,
    OPT_SSL_TRUSTFILE,
    OPT_SSL_CIPHERS,
    OPT_SSL_SERVERNAME,
    OPT_SSL_ALPN,
    OPT_VERSION,
};

static const struct option long_opts[] = {
    {"unixsock", no_argument, NULL, 'U'},
    {"crlf", no_argument, NULL, 'C'},
    {"sh-exec", required_argument, NULL, 'c'},
    {"exec", required_argument, NULL, 'e'},
    {"max-conns", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {"output", required_argument, NULL, 'o'},
    {"hex-dump", required_argument, NULL, 'x'},
    {"idle-timeout", required_argument, NULL, 'i'},
    {"source-port", required_argument, NULL, 'p'},
    {"source", required_argument, NULL, 's'},
    {"listen", no_argument, NULL, 'l'},
    {"keep-open", no_argument, NULL, 'k'},
    {"nodns", no_argument, NULL, 'n'},
    {"verbose", no_argument, NULL, 'v'},
    {"wait", required_argument, NULL, 'w'},
    {"append-output", no_argument, NULL, OPT_APPEND},
    {"send-only", no_argument, NULL, OPT_SEND_ONLY},
    {"recv-only", no_argument, NULL, OPT_RECV_ONLY},
    {"no-shutdown", no_argument, NULL, OPT_NO_SHUTDOWN},
    {"allow", required_argument, NULL, OPT_ALLOW},
    {"allowfile", required_argument, NULL, OPT_ALLOWFILE},
    {"deny", required_argument, NULL, OPT_DENY},
    {"denyfile", required_argument, NULL, OPT_DENYFILE},
    {"broker", no_argument, NULL, OPT_BROKER},
    {"chat", no_argument, NULL, OPT_CHAT},
    {"talk", no_argument, NULL, OPT_CHAT},
    {"ssl", no_argument, NULL, OPT_SSL},
    {"ssl-cert", required_argument, NULL, OPT_SSL_CERT},
    {"ssl-key", required_argument, NULL, OPT_SSL_KEY},
    {"ssl-verify", no_argument, NULL, OPT_SSL_VERIFY},
    {"ssl-trustfile", required_argument, NULL, OPT_SSL_TRUSTFILE},
    {"ssl-ciphers", required_argument, NULL, OPT_SSL_CIPHERS},
    {"ssl-servername", required_argument, NULL, OPT_SSL_SERVERNAME},
    {"ssl-alpn", required_argument, NULL, OPT_SSL_ALPN},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static int parse(int argc, char **argv, nc_opts_t *o);

int nc_parse_options(int argc, char **argv, nc_opts_t *o, const nc_parse_io_t *io)
{
    int rc;

    out_f = io && io->out ? io->out : stdout;
    err_f = io && io->err ? io->err : stderr;
    open_fn = io ? io->open : NULL;
    open_arg = io ? io->arg : NULL;
    rc = parse(argc, argv, o);
    if (rc >= 0)
        nc_free_options(o); /* nothing to run: leave nothing behind */
    return rc;
}

static int parse(int argc, char **argv, nc_opts_t *o)
{
    int c, err;

    memset(o, 0, sizeof *o);
    o->max_conns = 100;
    o->source_port = -1;
    o->port = -1;
    opterr = 0;
    /* 0, not 1: glibc then forgets the rest of a "-hl" cluster a previous
     * call stopped in (its pointer into that call's argv). */
    optind = 0;
    while ((c = getopt_long(argc, argv, "46UCc:e:m:ho:x:i:p:s:lknvw:z", long_opts, NULL)) != -1) {
        switch (c) {
        case '4':
            o->family = 4;
            break;
        case '6':
            o->family = 6;
            break;
        case 'U':
            o->unix_sock = true;
            break;
        case 'C':
            o->crlf = true;
            break;
        case 'c':
            o->sh_exec = optarg;
            break;
        case 'e':
            o->exec = optarg;
            break;
        case 'm':
            if (parse_int(optarg, 1, INT_MAX, &o->max_conns) != 0)
                return usage_error("Invalid maximum number of connections \"%s\".", optarg);
            break;
        case 'h':
            print_help(out_f);
            return 0;
        case 'o':
            o->output = optarg;
            break;
        case 'x':
            o->hexdump = optarg;
            break;
        case 'i':
            if (parse_time(optarg, &o->idle_ms) != 0)
                return usage_error("Invalid -i timeout \"%s\" (must be greater than 0).",
                                   optarg);
            break;
        case 'p':
            if (parse_int(optarg, 0, 65535, &o->source_port) != 0)
                return usage_error("Invalid source port \"%s\".", optarg);
            break;
        case 's':
            o->source = optarg;
            break;
        case 'l':
            o->listen = true;
            break;
        case 'k':
            o->keep_open = true;
            break;
        case 'n':
            break;
        case 'v':
            o->verbose++;
            break;
        case 'w':
            if (parse_time(optarg, &o->wait_ms) != 0)
                return usage_error("Invalid -w timeout \"%s\" (must be greater than 0).",
                                   optarg);
            break;
        case 'z':
            o->zero_io = true;
            break;
        case OPT_APPEND:
            o->append = true;
            break;
        case OPT_SEND_ONLY:
            o->send_only = true;
            break;
        case OPT_RECV_ONLY:
            o->recv_only = true;
            break;
        case OPT_NO_SHUTDOWN:
            o->no_shutdown = true;
            break;
        case OPT_ALLOW:
        case OPT_DENY:
            if (add_specs(c == OPT_ALLOW ? &o->allow : &o->deny, optarg) != 0)
                return usage_error("Bad host specification \"%s\".", optarg);
            break;
        case OPT_ALLOWFILE:
        case OPT_DENYFILE:
            if ((err = add_spec_file(c == OPT_ALLOWFILE ? &o->allow : &o->deny, optarg)) != 0)
                return usage_error("Error reading host file \"%s\".", optarg);
            break;
        case OPT_BROKER:
            o->broker = true;
            break;
        case OPT_CHAT:
            o->chat = o->broker = true;
            break;
        case OPT_SSL:
            o->ssl = true;
            break;
        case OPT_SSL_CERT:
            o->ssl_cert = optarg;
            o->ssl = true;
            break;
        case OPT_SSL_KEY:
            o->ssl_key = optarg;
            o->ssl = true;
            break;
        case OPT_SSL_VERIFY:
            o->ssl_verify = o->ssl = true;
            break;
        case OPT_SSL_TRUSTFILE:
            o->ssl_trustfile = optarg;
            o->ssl = true;
            break;
        case OPT_SSL_CIPHERS:
            o->ssl_ciphers = optarg;
            o->ssl = true;
            break;
        case OPT_SSL_SERVERNAME:
            o->ssl_servername = optarg;
            o->ssl = true;
            break;
        case OPT_SSL_ALPN:
            o->ssl_alpn = optarg;
            o->ssl = true;
            break;
        case OPT_VERSION:
            fprintf(out_f, "cnetcat: Version %s ( cnet, libuv %s )\n", CNET_VERSION_STRING, uv_version_string());
            return 0;
        default:
            if (optopt && strchr("cemoxipsw", optopt))
                fprintf(err_f, "cnetcat: option requires an argument -- '%c'\n", optopt);
            else
                fprintf(err_f, "cnetcat: unrecognized option '%s'\n", argv[optind - 1]);
            return usage_error("Try `--help' or man(1) cnetcat for more information, usage "
                               "options and help.");
        }
    }

    if (o->send_only && o->recv_only)
        return usage_error("--send-only and --recv-only are mutually exclusive.");
    if ((o->exec || o->sh_exec) && (o->broker || o->send_only || o->recv_only))
        return usage_error("--exec is not compatible with --broker, --send-only or "
                           "--recv-only.");
    if (o->exec && o->sh_exec)
        return usage_error("Only one of --exec and --sh-exec may be given.");
    if (o->unix_sock && o->family)
        return usage_error("-U is not compatible with -4 or -6.");
    if (o->unix_sock && (o->source || o->source_port >= 0))
        return usage_error("-s and -p are not supported with Unix sockets.");
    if (o->broker || o->chat)
        o->keep_open = true; /* as ncat: a broker keeps listening */
    if ((o->broker || o->allow || o->deny) && !o->listen)
        return usage_error("--broker, --chat, --allow and --deny need -l.");

    int rest = argc - optind;
    char **args = argv + optind;
    if (o->unix_sock) {
        if (rest != 1)
            return usage_error("You must specify a path with -U.");
        o->path = args[0];
        return -1;
    }
    if (o->listen) {
        /* ncat -l [host] [port]: a lone argument that is a number is the port */
        if (rest == 1 && parse_int(args[0], 0, 65535, &o->port) == 0)
            rest = 0;
        else if (rest == 1)
            o->host = args[0];
        else if (rest == 2) {
            o->host = args[0];
            if (parse_int(args[1], 0, 65535, &o->port) != 0)
                return usage_error("Invalid port number \"%s\".", args[1]);
        } else if (rest > 2)
            return usage_error("Got more than two arguments.");
        if (o->port < 0)
            o->port = 31337; /* ncat's default listening port */
        return -1;
    }
    if (rest < 1)
        return usage_error("You must specify a host to connect to.");
    if (rest > 2)
        return usage_error("Got more than two arguments.");
    o->host = args[0];
    if (rest == 1)
        o->port = 31337;
    else if (parse_int(args[1], 0, 65535, &o->port) != 0)
        return usage_error("Invalid port number \"%s\".", args[1]);
    return -1;
}

void nc_free_options(nc_opts_t *o)
{
    cnet_blocklist_release(o->allow);
    cnet_blocklist_release(o->deny);
    o->allow = o->deny = NULL;
}
