/*
 * sio_client.c — socket.io 5 on one connection: namespaces, authentication, and the
 * events of the original Venta apps (docs/ws.md "Moving an existing Venta app").
 *
 * Nothing here is a second implementation of the gateway's behaviour. A namespace's
 * CONNECT verifies the session token with client.c's verifier (the same as /ws); an
 * app's event is rewritten as the venta.v1.json message that means the same
 * (sio_messages.c) and handed to client_message, so the rate limit, the strikes, the
 * validation, watch.bounds (fanout.c + snapshot.c) and vendor streams (streams.c:
 * ownership, rate limit, presence, NATS) are exactly /ws's. Replies come back as /ws
 * messages through conn_send, and sio_client_encode turns them into socket.io packets,
 * the request's namespace and ack id riding in the ref.
 *
 * What /ws does not have: a new box replaces the old one silently on /ws (its snapshot
 * is the new state), but the original apps keep their markers until told, so every
 * vendor of the old box that is outside the new one gets vendor_disconnect.
 */
#include "sio_client.h"

#include "client.h"
#include "fanout.h"
#include "sio_messages.h"
#include "sio_only_vendor.h"
#include "vt_sio.h"
#include "ws_gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const nsp_names[SIO_NSP_COUNT] = {"/", "/user", "/vendor"};

static int nsp_index(const char *nsp)
{
    for (int i = 0; i < SIO_NSP_COUNT; i++)
        if (strcmp(nsp, nsp_names[i]) == 0)
            return i;
    return -1;
}

void sio_client_init(sio_client *sc, conn *c, sio_cache *cache, const char *token, size_t len)
{
    *sc = (sio_client){.c = c, .cache = cache, .viewer_nsp = SIO_NSP_USER};
    if (token && len)
        sc->token = strndup(token, len);
}

void sio_client_done(sio_client *sc)
{
    free(sc->token);
    sc->token = NULL;
    for (int i = 0; i < sc->nwaiting; i++)
        json_decref(sc->waiting[i].arg);
    sc->nwaiting = 0;
}

void sio_cache_clear(sio_cache *cache)
{
    for (int i = 0; i < SIO_NSP_COUNT; i++) {
        if (cache->src[i])
            msg_unref(cache->src[i]);
        if (cache->out[i])
            msg_unref(cache->out[i]);
        cache->src[i] = cache->out[i] = NULL;
    }
}

msgbuf *sio_client_encode(sio_client *sc, msgbuf *m)
{
    if (m->len && m->data[0] != '{')
        return msg_ref(m); /* already an Engine.IO packet (ours: its type digit first) */
    sio_cache *k = sc->cache;
    int i = sc->viewer_nsp;
    if (k->src[i] != m) {
        if (k->src[i])
            msg_unref(k->src[i]);
        if (k->out[i])
            msg_unref(k->out[i]);
        k->src[i] = msg_ref(m);
        k->out[i] = sio_msg_from_ws(m, nsp_names[i]);
    }
    return k->out[i] ? msg_ref(k->out[i]) : NULL;
}

static void send_packet(sio_client *sc, vt_sio_type type, const char *nsp, int64_t ack_id,
                        const char *data, size_t len)
{
    size_t cap = len + VT_SIO_NSP_MAX + 32;
    msgbuf *m = msg_new(cap);
    if (!m)
        return;
    int n = vt_sio_encode(true, type, nsp, ack_id, data, len, m->data, cap);
    if (n > 0) {
        m->len = (uint32_t)n;
        conn_send(sc->c, m);
    }
    msg_unref(m);
}

/* An error for a request: the error event (and a strike), through the same path as
 * every /ws error. */
static void send_error(sio_client *sc, const char *nsp, int64_t ack_id, const char *code,
                       const char *message)
{
    char ref[VT_SIO_NSP_MAX + 24], jref[VT_SIO_NSP_MAX + 32];
    sio_msg_ref(nsp, ack_id, ref, sizeof ref);
    snprintf(jref, sizeof jref, "\"%s\"", ref); /* /ws refs are JSON text */
    conn_send_error(sc->c, code, message, jref);
}

static void refuse(sio_client *sc, const char *nsp, int64_t ack_id, const char *code,
                   const char *message)
{
    send_error(sc, nsp, ack_id, code, message);
    conn_strike(sc->c);
}

static void connect_error(sio_client *sc, const char *nsp, const char *message)
{
    json_t *o = json_pack("{s:s}", "message", message);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text)
        send_packet(sc, VT_SIO_CONNECT_ERROR, nsp, -1, text, strlen(text));
    free(text);
    json_decref(o);
}

/* CONNECT: the token from its auth payload, else the handshake's. */
static void on_connect(sio_client *sc, const vt_sio_packet *p)
{
    int i = nsp_index(p->nsp);
    if (i < 0) {
        connect_error(sc, p->nsp, "Invalid namespace"); /* socket.io's own words */
        return;
    }
    json_t *auth = p->len ? json_loadb(p->data, p->len, 0, NULL) : NULL;
    const char *token = json_string_value(json_object_get(auth, "token"));
    if (!token)
        token = sc->token;
    char err[200], msg[256];
    int rc = VT_UNAUTHENTICATED;
    if (!token || !*token)
        snprintf(err, sizeof err,
                 "a Clerk session token is required (auth.token, ?token= or "
                 "Authorization: Bearer)");
    else if (!strchr(token, '.'))
        snprintf(err, sizeof err,
                 "a Clerk session token is required; a bare user id is no "
                 "longer accepted");
    else
        rc = client_authenticate(sc->c, token, strlen(token), err, sizeof err);
    json_decref(auth);
    if (rc != VT_OK) {
        snprintf(msg, sizeof msg, "%s: %s", vt_status_name(rc), err);
        connect_error(sc, p->nsp, msg);
        return;
    }
    sc->c->state = CONN_OPEN;
    sc->connected |= (uint8_t)(1u << i);
    char data[VT_REQUEST_ID_LEN + 40];
    int n = snprintf(data, sizeof data, "{\"sid\":\"%s-%d\"}", sc->c->conn_id, i);
    send_packet(sc, VT_SIO_CONNECT, p->nsp, -1, data, (size_t)n);
}

/* The vendors of c's box before a new one, to tell those outside it that they left. */
typedef struct {
    char (*id)[VT_UUID_LEN + 1];
    double *lat, *lng;
    uint32_t n;
} box_members;

static void members_save(const conn *c, box_members *b)
{
    *b = (box_members){0};
    const viewer *vw = c->view;
    if (!vw || !vw->ninside)
        return;
    b->id = malloc(vw->ninside * sizeof *b->id);
    b->lat = malloc(vw->ninside * sizeof *b->lat);
    b->lng = malloc(vw->ninside * sizeof *b->lng);
    if (!b->id || !b->lat || !b->lng)
        return;
    for (uint32_t i = 0; i < vw->ninside; i++) {
        const ventry *v = vw->inside[i]->v;
        memcpy(b->id[b->n], v->id, sizeof b->id[0]);
        b->lat[b->n] = v->pos.lat;
        b->lng[b->n++] = v->pos.lng;
    }
}

static void members_left(conn *c, box_members *b, uint32_t seq_before)
{
    const viewer *vw = c->view;
    if (vw && vw->snapshot_seq != seq_before) /* the new box is in force */
        for (uint32_t i = 0; i < b->n; i++)
            if (!vt_geo_box_contains(&vw->box, b->lat[i], b->lng[i])) {
                msgbuf *m = msg_encode_leave(b->id[i]);
                if (m) {
                    conn_send(c, m);
                    msg_unref(m);
                }
            }
    free(b->id);
    free(b->lat);
    free(b->lng);
}

/* updateUserLocation / updateVendorLocation: as their /ws messages. */
static void forward(sio_client *sc, int nsp, const char *name, const json_t *arg, int64_t ack_id)
{
    char ref[VT_SIO_NSP_MAX + 24], err[200];
    sio_msg_ref(nsp_names[nsp], ack_id, ref, sizeof ref);
    int status;
    char *text =
        sio_msg_to_ws(name, arg, sc->vendor[0] ? sc->vendor : NULL, ref, &status, err, sizeof err);
    if (!text) {
        refuse(sc, nsp_names[nsp], ack_id, vt_status_name(status), err);
        return;
    }
    bool watch = strcmp(name, "updateUserLocation") == 0;
    box_members before = {0};
    uint32_t seq = sc->c->view ? sc->c->view->snapshot_seq : 0;
    if (watch) {
        sc->viewer_nsp = (uint8_t)nsp;
        members_save(sc->c, &before);
    }
    client_message(sc->c, text, strlen(text));
    if (watch)
        members_left(sc->c, &before, seq);
    free(text);
}

static void ack_ok(sio_client *sc, const char *nsp, int64_t ack_id)
{
    if (ack_id >= 0)
        send_packet(sc, VT_SIO_ACK, nsp, ack_id, "[{\"ok\":true}]", 13);
}

/* sio_only_vendor.c's answer: the waiting events go on with the one vendor (kept, as
 * register-vendor would), or each gets the error. */
static void on_only_vendor(conn *c, void *user, int status, const char *vendor_id, const char *why)
{
    (void)c;
    sio_client *sc = user;
    sc->asking = false;
    if (status == VT_OK && !sc->vendor[0] && vendor_id && vt_uuid_valid(vendor_id))
        snprintf(sc->vendor, sizeof sc->vendor, "%s", vendor_id);
    bool apps_fault = status == VT_NOT_FOUND || status == VT_FAILED_PRECONDITION;
    int n = sc->nwaiting;
    sc->nwaiting = 0;
    for (int i = 0; i < n; i++) {
        int nsp = sc->waiting[i].nsp;
        int64_t ack_id = sc->waiting[i].ack_id;
        if (sc->vendor[0])
            forward(sc, nsp, "updateVendorLocation", sc->waiting[i].arg, ack_id);
        else if (apps_fault)
            refuse(sc, nsp_names[nsp], ack_id, "INVALID_ARGUMENT", why);
        else /* ours: no strike */
            send_error(sc, nsp_names[nsp], ack_id, "INTERNAL", why);
        json_decref(sc->waiting[i].arg);
    }
}

/* updateVendorLocation: with a vendorId or after register-vendor at once, else once the
 * user's only vendor is known. */
static void vendor_location(sio_client *sc, int nsp, const json_t *arg, int64_t ack_id)
{
    if (sc->vendor[0] || json_is_string(json_object_get(arg, "vendorId"))) {
        forward(sc, nsp, "updateVendorLocation", arg, ack_id);
        return;
    }
    if (sc->nwaiting >= SIO_WAITING_MAX) {
        refuse(sc, nsp_names[nsp], ack_id, "RESOURCE_EXHAUSTED",
               "looking up your vendor; retry, or give vendorId");
        return;
    }
    if (!sc->asking && sio_only_vendor_lookup(sc->c, on_only_vendor, sc) != VT_OK) {
        send_error(sc, nsp_names[nsp], ack_id, "INTERNAL", "cannot look up your vendor now; retry");
        return;
    }
    sc->asking = true;
    sc->waiting[sc->nwaiting].nsp = (uint8_t)nsp;
    sc->waiting[sc->nwaiting].ack_id = ack_id;
    sc->waiting[sc->nwaiting++].arg = json_incref((json_t *)arg);
}

static void on_event(sio_client *sc, const vt_sio_packet *p)
{
    int i = nsp_index(p->nsp);
    if (i < 0 || !(sc->connected & (1u << i)))
        return; /* not connected there: socket.io drops it too */
    char name[64], err[200];
    json_t *args = NULL;
    if (vt_sio_event_decode(p, name, sizeof name, &args, err, sizeof err) != VT_OK) {
        refuse(sc, p->nsp, p->ack_id, "INVALID_ARGUMENT", err);
        return;
    }
    const json_t *arg = json_array_get(args, 0);
    if (strcmp(name, "updateUserLocation") == 0 && i != SIO_NSP_VENDOR) {
        forward(sc, i, name, arg, p->ack_id);
    } else if (strcmp(name, "updateVendorLocation") == 0 && i != SIO_NSP_USER) {
        vendor_location(sc, i, arg, p->ack_id);
    } else if (strcmp(name, "register-vendor") == 0 && i != SIO_NSP_USER) {
        const char *id = json_string_value(json_object_get(arg, "vendorId"));
        if (!id || !vt_uuid_valid(id)) {
            refuse(sc, p->nsp, p->ack_id, "INVALID_ARGUMENT", "register-vendor needs a vendorId");
        } else {
            snprintf(sc->vendor, sizeof sc->vendor, "%s", id);
            ack_ok(sc, p->nsp, p->ack_id);
        }
    } else if (strcmp(name, "register-user") == 0 && i == SIO_NSP_ROOT) {
        /* Who the user is comes from the session token; a different id is refused. */
        const char *id = json_string_value(json_object_get(arg, "userId"));
        if (id && sc->c->user_id && strcmp(id, sc->c->user_id) != 0)
            refuse(sc, p->nsp, p->ack_id, "PERMISSION_DENIED",
                   "register-user: the session token is for another user");
        else
            ack_ok(sc, p->nsp, p->ack_id);
    } else {
        char msg[200];
        snprintf(msg, sizeof msg, "unknown event %.60s on namespace %s", name, p->nsp);
        refuse(sc, p->nsp, p->ack_id, "INVALID_ARGUMENT", msg);
    }
    json_decref(args);
}

void sio_client_message(sio_client *sc, const char *data, size_t len, bool binary)
{
    if (binary) {
        refuse(sc, "/", -1, "INVALID_ARGUMENT", "binary packets are not supported");
        return;
    }
    vt_sio_packet p;
    char err[200];
    if (vt_sio_decode(data, len, &p, err, sizeof err) != VT_OK) {
        refuse(sc, "/", -1, "INVALID_ARGUMENT", err);
        return;
    }
    int i = nsp_index(p.nsp);
    switch (p.type) {
    case VT_SIO_CONNECT:
        on_connect(sc, &p);
        break;
    case VT_SIO_DISCONNECT:
        if (i >= 0)
            sc->connected &= (uint8_t) ~(1u << i);
        break;
    case VT_SIO_EVENT:
        on_event(sc, &p);
        break;
    case VT_SIO_ACK: /* we ask for no acknowledgements */
        break;
    case VT_SIO_BINARY_EVENT:
    case VT_SIO_BINARY_ACK:
        refuse(sc, i >= 0 ? p.nsp : "/", p.ack_id, "INVALID_ARGUMENT",
               "binary packets are not supported");
        break;
    default: /* CONNECT_ERROR comes from servers only */
        refuse(sc, i >= 0 ? p.nsp : "/", -1, "INVALID_ARGUMENT", "unexpected packet type");
        break;
    }
}
