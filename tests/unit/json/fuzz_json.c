/*
 * fuzz_json.c — libFuzzer target for vt_json_decode (clang only, built by `ninja fuzz`,
 * run by the 'fuzz' suite; see tests/run-fuzz).
 *
 * The first input byte picks the message type (Vendor, CreateVendorRequest,
 * UpdateVendorRequest, ListVendorsResponse, ApplySubscriptionEventRequest or the
 * test-only AllTypes, which has every scalar type and a multi-member oneof); the rest
 * is the JSON body. For every input it checks what the unit tests check on samples:
 * bad input is refused with a status and a message, never a crash or a leak; a
 * decoded message encodes, and that encoding decodes to the same wire bytes and
 * re-encodes to the same text (in both emission modes). Half the runs decode through a
 * counting allocator so the fuzzer also proves alloc/free balance on error paths.
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Dbenchmarks=false
 *   ninja -C build-fuzz fuzz && build-fuzz/tests/unit/json/fuzz-json -max_total_time=60 \
 *       -dict=tests/unit/json/fuzz_json.dict tests/unit/json/corpus
 */
#include "vt_json.h"

#include "json_test.pb-c.h"
#include "venta/user/v1/user.pb-c.h"
#include "venta/vendor/v1/vendor.pb-c.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long live; /* allocations not yet freed through the counting allocator */

static void *count_alloc(void *d, size_t n)
{
    (void)d;
    live++;
    return malloc(n);
}

static void count_free(void *d, void *p)
{
    (void)d;
    live--;
    free(p);
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len + 1);
    protobuf_c_message_pack(m, buf);
    return buf;
}

static void check_round_trip(const ProtobufCMessage *m, bool emit_defaults)
{
    vt_json_encode_opts o = {.emit_defaults = emit_defaults};
    char *text = NULL, *again = NULL, err[256];
    size_t len = 0, la, lb;
    ProtobufCMessage *back = NULL;

    if (vt_json_encode(m, &o, &text, &len) != 0)
        abort();
    if (vt_json_decode(m->descriptor, text, len, NULL, &back, err, sizeof err) != 0)
        abort(); /* our own output must always decode */
    uint8_t *pa = pack(m, &la), *pb = pack(back, &lb);
    /* Same wire bytes: every value survived, -0.0 and NaN (always the canonical NaN
     * after a decode) included. */
    if (la != lb || memcmp(pa, pb, la) != 0)
        abort();
    if (vt_json_encode(back, &o, &again, NULL) != 0 || strcmp(text, again) != 0)
        abort();
    free(pa);
    free(pb);
    free(text);
    free(again);
    protobuf_c_message_free_unpacked(back, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ProtobufCMessageDescriptor *descs[] = {
        &venta__vendor__v1__vendor__descriptor,
        &venta__vendor__v1__create_vendor_request__descriptor,
        &venta__vendor__v1__update_vendor_request__descriptor,
        &venta__vendor__v1__list_vendors_response__descriptor,
        &venta__user__v1__apply_subscription_event_request__descriptor,
        &venta__jsontest__v1__all_types__descriptor,
    };
    if (size < 1)
        return 0;
    const ProtobufCMessageDescriptor *d = descs[data[0] % 6];
    bool counted = data[0] & 0x80;
    ProtobufCAllocator a = {count_alloc, count_free, NULL};
    ProtobufCAllocator *alloc = counted ? &a : NULL;
    ProtobufCMessage *m = NULL;
    char err[256];

    err[0] = 'x';
    live = 0;
    int rc = vt_json_decode(d, (const char *)data + 1, size - 1, alloc, &m, err, sizeof err);
    if (rc != 0) {
        if (m != NULL || rc != VT_INVALID_ARGUMENT || err[0] == '\0' || live != 0)
            abort();
        return 0;
    }
    if (!m)
        abort();
    check_round_trip(m, true);
    check_round_trip(m, false);
    protobuf_c_message_free_unpacked(m, alloc);
    if (live != 0)
        abort();
    return 0;
}
