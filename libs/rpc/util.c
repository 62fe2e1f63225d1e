/*
 * util.c — small conversions between grpc core types and ours: outgoing metadata lists,
 * metadata lookup, byte buffers to and from protobuf-c messages, deadlines, channel
 * arguments.
 *
 * Outgoing metadata slices are copies owned by the list (grpc may keep its own refs),
 * released only after the batch that sent them has completed.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>

#include "rpc_internal.h"

bool rpc_md_key_valid(const char *key)
{
    if (!key || !*key || strncmp(key, "grpc-", 5) == 0 || key[0] == ':')
        return false;
    for (const char *p = key; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return false;
    }
    size_t n = strlen(key);
    /* Binary values would need base64 handling on our side; not supported. */
    return !(n >= 4 && strcmp(key + n - 4, "-bin") == 0);
}

static bool md_value_valid(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return false;
    return true;
}

int rpc_md_out_add(rpc_md_out *md, const char *key, const char *value)
{
    if (!rpc_md_key_valid(key) || !value || !md_value_valid(value))
        return VT_INVALID_ARGUMENT;
    if (md->count == md->cap) {
        grpc_metadata *items;
        size_t cap;
        if (md->cap == 0) { /* first use: the inline slots, no malloc */
            items = md->inline_items;
            cap = RPC_MD_INLINE;
        } else {
            cap = md->cap * 2;
            items = malloc(cap * sizeof *items);
            if (!items)
                return VT_RESOURCE_EXHAUSTED;
            memcpy(items, md->items, md->count * sizeof *items);
            if (md->items != md->inline_items)
                free(md->items);
        }
        md->items = items;
        md->cap = cap;
    }
    grpc_metadata *m = &md->items[md->count++];
    memset(m, 0, sizeof *m);
    m->key = grpc_slice_from_copied_string(key);
    m->value = grpc_slice_from_copied_string(value);
    return 0;
}

void rpc_md_out_release(rpc_md_out *md)
{
    for (size_t i = 0; i < md->count; i++) {
        grpc_slice_unref(md->items[i].key);
        grpc_slice_unref(md->items[i].value);
    }
    if (md->items != md->inline_items)
        free(md->items);
    md->items = NULL;
    md->count = md->cap = 0;
}

bool rpc_md_find(const grpc_metadata_array *arr, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i < arr->count; i++) {
        const grpc_slice *k = &arr->metadata[i].key;
        if (GRPC_SLICE_LENGTH(*k) != klen || memcmp(GRPC_SLICE_START_PTR(*k), key, klen) != 0)
            continue;
        const grpc_slice *v = &arr->metadata[i].value;
        size_t n = GRPC_SLICE_LENGTH(*v);
        if (n >= outlen)
            return false; /* never trust a length from the wire: too long is absent */
        memcpy(out, GRPC_SLICE_START_PTR(*v), n);
        out[n] = '\0';
        return true;
    }
    return false;
}

grpc_slice rpc_buffer_flatten(grpc_byte_buffer *bb)
{
    /* A small message arrives as one uncompressed slice: share it instead of copying it
     * (grpc_byte_buffer_reader_readall always mallocs and copies). */
    if (bb->type == GRPC_BB_RAW && bb->data.raw.compression == GRPC_COMPRESS_NONE &&
        bb->data.raw.slice_buffer.count == 1)
        return grpc_slice_ref(bb->data.raw.slice_buffer.slices[0]);
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb))
        return grpc_empty_slice();
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    return s;
}

grpc_byte_buffer *rpc_message_pack(const ProtobufCMessage *msg, size_t max, size_t *size_out)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    if (size_out)
        *size_out = n;
    if (n > max)
        return NULL;
    grpc_slice s = grpc_slice_malloc(n);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

int64_t rpc_deadline_remaining_ms(gpr_timespec deadline)
{
    if (gpr_time_cmp(deadline, gpr_inf_future(deadline.clock_type)) == 0)
        return INT64_MAX;
    gpr_timespec mono = gpr_convert_clock_type(deadline, GPR_CLOCK_MONOTONIC);
    gpr_timespec left = gpr_time_sub(mono, gpr_now(GPR_CLOCK_MONOTONIC));
    return (int64_t)left.tv_sec * 1000 + left.tv_nsec / 1000000;
}

gpr_timespec rpc_deadline_in_ms(int64_t ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

const ProtobufCMethodDescriptor *rpc_service_method(const ProtobufCServiceDescriptor *svc,
                                                    const char *method)
{
    if (!svc || !method)
        return NULL;
    for (unsigned i = 0; i < svc->n_methods; i++)
        if (strcmp(svc->methods[i].name, method) == 0)
            return &svc->methods[i];
    return NULL;
}

void rpc_grpc_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, rpc_absl_release_mode);
    grpc_init();
}

grpc_arg rpc_int_arg(const char *key, int value)
{
    grpc_arg a;
    memset(&a, 0, sizeof a);
    a.type = GRPC_ARG_INTEGER;
    a.key = (char *)key;
    a.value.integer = value;
    return a;
}

grpc_arg rpc_string_arg(const char *key, const char *value)
{
    grpc_arg a;
    memset(&a, 0, sizeof a);
    a.type = GRPC_ARG_STRING;
    a.key = (char *)key;
    a.value.string = (char *)value;
    return a;
}

int vt_rpc_method_path(const ProtobufCServiceDescriptor *svc, const char *method, char *out,
                       size_t outlen)
{
    if (!rpc_service_method(svc, method))
        return VT_INVALID_ARGUMENT;
    int n = snprintf(out, outlen, "/%s/%s", svc->name, method);
    if (n < 0 || (size_t)n >= outlen)
        return VT_INVALID_ARGUMENT;
    return 0;
}
