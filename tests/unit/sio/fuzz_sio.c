/*
 * fuzz_sio.c — libFuzzer target for libs/sio (clang only, built by `ninja fuzz`, run by
 * the 'fuzz' suite; see tests/run-fuzz).
 *
 * The input is read as what a socket.io client sends: a long-polling body (walked
 * packet by packet) and, inside each message, a socket.io packet. For every input it
 * checks what the unit tests check on samples: bad input is refused with a status and
 * never read past its length (ASan sees the copy's end); a walk always advances and
 * ends; a packet that parses is written back by vt_sio_encode to text that parses to
 * the same type, namespace and ack id; an EVENT that parses has a name and arguments.
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Dbenchmarks=false
 *   ninja -C build-fuzz fuzz && build-fuzz/tests/unit/sio/fuzz-sio -max_total_time=60 \
 *       tests/unit/sio/corpus
 */
#include "vt_core.h"
#include "vt_sio.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sio(const char *text, size_t len)
{
    char err[128];
    vt_sio_packet p;
    if (vt_sio_decode(text, len, &p, err, sizeof err) != VT_OK) {
        if (!err[0])
            abort(); /* a refusal always says why */
        return;
    }
    if (p.data + p.len != text + len || strlen(p.nsp) > VT_SIO_NSP_MAX || p.nsp[0] != '/')
        abort();
    if (p.type == VT_SIO_EVENT) {
        char name[64];
        json_t *args = NULL;
        if (vt_sio_event_decode(&p, name, sizeof name, &args, err, sizeof err) == VT_OK) {
            if (!json_is_array(args))
                abort();
            json_decref(args);
        } else if (args) {
            abort();
        }
    }
    size_t cap = len + VT_SIO_NSP_MAX + 32;
    char *out = malloc(cap);
    if (!out)
        return;
    int n = vt_sio_encode(false, p.type, p.nsp, p.ack_id, p.data, p.len, out, cap);
    vt_sio_packet q;
    /* Binary packets carry their attachment count, which vt_sio_encode does not write. */
    if (p.type != VT_SIO_BINARY_EVENT && p.type != VT_SIO_BINARY_ACK) {
        if (n < 0 || vt_sio_decode(out, (size_t)n, &q, err, sizeof err) != VT_OK ||
            q.type != p.type || q.ack_id != p.ack_id || strcmp(q.nsp, p.nsp) != 0 || q.len != p.len)
            abort();
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes: any read past the end is an ASan error. */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    memcpy(body, data, size);
    char err[128];
    vt_sio_eio_packet p;
    if (vt_sio_eio_decode_frame(body, size, false, &p, err, sizeof err) == VT_OK &&
        p.type == VT_SIO_EIO_MESSAGE)
        check_sio(p.data, p.len);
    size_t pos = 0, last = 0;
    int rc;
    while ((rc = vt_sio_eio_payload_next(body, size, &pos, &p, err, sizeof err)) == 1) {
        if (pos <= last || pos > size)
            abort(); /* the walk always advances and stays inside */
        last = pos;
        if (p.type == VT_SIO_EIO_MESSAGE && !p.binary)
            check_sio(p.data, p.len);
    }
    free(body);
    return 0;
}
