/*
 * -o FILE: every byte sent and received, in the order it passed; -x FILE:
 * the same as ncat's hex dump ("0000   68 65 ...  hello."), 16 bytes a line.
 * Written with stdio: the files are logs, flushed at exit, and
 * --append-output appends instead of truncating.
 */
#include "cnetcat.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

static FILE *raw, *hex;
static unsigned long hex_offset;

int nc_dump_open(const nc_opts_t *o)
{
    const char *mode = o->append ? "ab" : "wb";

    if (o->output && !(raw = fopen(o->output, mode)))
        return -errno;
    if (o->hexdump && !(hex = fopen(o->hexdump, mode)))
        return -errno;
    return 0;
}

static void hex_line(const unsigned char *p, size_t n)
{
    fprintf(hex, "%04lx   ", hex_offset);
    for (size_t i = 0; i < 16; i++) {
        if (i < n)
            fprintf(hex, "%02x ", p[i]);
        else
            fputs("   ", hex);
        if (i == 7)
            fputc(' ', hex);
    }
    fputc(' ', hex);
    for (size_t i = 0; i < 16; i++)
        fputc(i < n ? (isprint(p[i]) ? p[i] : '.') : ' ', hex);
    fputc('\n', hex);
    hex_offset += n;
}

void nc_dump(const char *data, size_t len)
{
    if (raw)
        fwrite(data, 1, len, raw);
    if (hex) {
        /* ncat dumps each read or write on its own lines, offsets counting on */
        const unsigned char *p = (const unsigned char *)data;
        for (size_t off = 0; off < len; off += 16)
            hex_line(p + off, len - off < 16 ? len - off : 16);
    }
}

void nc_dump_close(void)
{
    if (raw)
        fclose(raw);
    if (hex)
        fclose(hex);
    raw = hex = NULL;
}
