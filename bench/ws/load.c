/*
 * load.c — ws-load: the WebSocket fan-out load generator of bench/ws/run.
 *
 * One thread, one epoll, non-blocking sockets, and just enough RFC 6455 to drive a
 * server: an HTTP/1.1 upgrade, masked text frames out, unmasked frames in (text,
 * continuation, ping → pong, close). Three dialects behind --proto:
 *
 *   venta  GET /ws, subprotocol venta.v1.json, `Authorization: Bearer <jwt>`. Viewers
 *          send one {"op":"watch.bounds",…} and are ready at their `snapshot`; vendor
 *          connections stream {"op":"location",…} for the vendors they own (--vendors-per-
 *          conn each) and are ready when the first location of each is acked (the
 *          gateway's ownership check through VendorService.GetVendor is then done).
 *          Server frames may carry several messages separated by '\n'.
 *   sio    socket.io 4 / Engine.IO 4 over the websocket transport only
 *          (GET /socket.io/?EIO=4&transport=websocket): the server's `0{…}` open packet,
 *          our `40` namespace connect, its `40{…}`; viewers send `420["watch",{box}]`
 *          and are ready at the ack `430…`; vendors send `42["location",{…}]`, the same
 *          JSON object as venta's; viewers get `42["location",{…}]`, one per frame.
 *          Engine.IO pings (`2`) are answered with `3`. Made-up events: the baseline of
 *          the venta fan-out (bench/ws/socketio_server.js without a mode).
 *   sio-venta  the same Engine.IO framing with the ORIGINAL Venta app's events (docs/ws.md
 *          "Moving an existing Venta app"), for venta-ws-gateway's /socket.io/ and for
 *          socketio_server.js's `venta` mode: CONNECT `40/user,{"token":"<jwt>"}` or
 *          `40/vendor,{…}`; viewers send `42/user,["updateUserLocation",{neLocation,
 *          swLocation}]` and are ready at their `vendor_channels`; vendor connections send
 *          `42/vendor,<ack id>["updateVendorLocation",{lat,long,vendorId}]` (every one
 *          asks for an ack) and are ready when the first location of each of their vendors
 *          is acked (`43/vendor,<id>[…]`); viewers count `vendor_sync {id, location}`.
 *
 * Socket.io packets are read by one parser (sio_parse: type, namespace, ack id, data), so
 * both socket.io dialects share the framing, the pings and the readiness rules.
 *
 * Shapes (--areas): one shared area (the default, --areas 1: every viewer watches the same
 * 0.1° box and every vendor is in it: the batching best case), or a city of A areas far
 * apart (1° apart on a grid, each a 0.1° box): viewer i watches area i mod A and vendor v
 * lives in area v mod A, so each position goes to viewers/A viewers. --area-base and
 * --first-vendor shift the areas and vendor ids, so that several ws-load processes (each
 * under the fd limit) drive disjoint parts of one city; --port takes a list, and
 * connection i goes to port i mod n (several gateway processes), so a vendor's viewers
 * sit on every gateway and positions cross between them over NATS.
 *
 * Connections are bound to source addresses 127.0.0.2 … 127.0.0.(1+--src) in turn
 * (IP_BIND_ADDRESS_NO_PORT), so far more than one address's ~28k ephemeral ports fit.
 *
 * Latency: every position sent has a per-vendor key and the generator keeps the
 * CLOCK_MONOTONIC send time in a per-vendor ring indexed by that key; on arrival (time
 * taken once per read()) it looks up (vendor, key) and counts the delivery as unmatched
 * unless the ring still holds exactly that key. So the number is vendor send → viewer
 * receive, through the whole server path (gateway: JSON in, NATS publish, NATS back, box
 * filter, queue, frame out), in nanoseconds. The key:
 *   venta, sio  the location's `ts` (Unix ms, strictly increasing per vendor).
 *   sio-venta   vendor_sync carries only {id, location:{lat,long}}, so the key is in the
 *          coordinates: a vendor's home is on a 0.001° grid and its n-th position (n
 *          counted per vendor, key = n mod 1,000,000) is home + (key mod 1000) µ° of
 *          latitude and home + (key div 1000) µ° of longitude, sent with 6 decimals. The
 *          viewer reads both back (strtod, rounded to whole µ°: both servers send the
 *          shortest round-trip form of the double they parsed). Every position is a
 *          distinct point less than 0.001° (~110 m) from home, inside the box, and a
 *          stale or foreign position cannot match: the ring keeps the full key.
 *
 * Modes:
 *   fanout  vendors first (ownership warm-up, paced; venta's far outside every box,
 *           sio-venta's at home, inside it, so a server that resolves the box once when
 *           the viewer sends it sees every vendor), then viewers, then for each rate of
 *           --rates (aggregate location messages/s over all vendors, round-robin) a step
 *           of --step seconds: deliveries (location/enter messages received by all
 *           viewers) per second, and p50/p99/max latency of deliveries received in the
 *           step's last (step - warm) seconds; between steps the generator waits until
 *           the servers' queues have drained. One line per step on stdout (key=value).
 *           Deliveries are location/enter (venta, sio) or vendor_sync (sio-venta)
 *           messages.
 *   idle    open --viewers viewers (each with one small watch unless --no-watch),
 *           print `READY …` and hold them (answering pings) until SIGTERM/SIGINT or
 *           --hold seconds.
 *   floor   the physical floor beside the result: --viewers loopback TCP connections,
 *           drained by a forked reader (on --reader-cpu if given); --frames server
 *           frames of --size payload bytes sent round-robin over them, --batch frames per
 *           send(); prints the sender's CPU µs per frame (getrusage). On loopback the
 *           sender's send() also runs the receiver's TCP input, as the servers' do.
 *
 * --sync DIR,N,I: this is process I of N ws-load processes driving one city (each under
 * the fd limit): before each step, each one writes DIR/<step>.<I>.<stop> and waits until
 * all N have, so the steps run together; all stop when any of them would (--stop-below).
 *
 * With --server-pid PID[,PID...] the servers' CPU seconds per step (summed) are read from
 * /proc/PID/stat.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum { PROTO_VENTA, PROTO_SIO, PROTO_SIO_VENTA };
enum { ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_READY, ST_CLOSED };
enum { ROLE_VIEWER, ROLE_VENDOR };

#define RING 1024                /* send times kept per vendor */
#define HIST_US 10               /* histogram bucket width */
#define HIST_N (10 * 1000 * 100) /* 10 s in 10 µs buckets */
#define RBUF (1 << 20)

typedef struct {
    int64_t ts;
    int64_t sent_ns;
} sendrec;

typedef struct {
    int64_t last_ts;
    double lat, lng;
    sendrec ring[RING];
} vendor_t;

typedef struct conn {
    int fd;
    uint8_t state, role, sio_open;
    uint32_t idx; /* viewers: index; vendors: connection number */
    char *carry;  /* partial frame left from the last read */
    size_t ncarry;
    char *frag; /* a fragmented message being reassembled */
    size_t nfrag;
    char *out; /* bytes not yet written */
    size_t nout, capout;
    uint32_t acks;
    uint16_t port;
} conn;

static struct {
    int proto;
    const char *host;
    int ports[16], nports;
    int areas, area_base, first_vendor;
    const char *sync_dir; /* --sync DIR,N,I: process I of N steps in lock-step with the others */
    int sync_n, sync_i;
    int server_pids[16], nserver_pids;
    const char *path;
    int viewers, vconns, per_conn, src;
    const char *viewer_token, *vendor_token;
    double rates[32];
    int nrates;
    double step_s, warm_s, hold_s;
    double stop_below; /* stop the steps once delivered/offered falls below this */
    int pending_max;
    bool idle, no_watch, floor;
    int floor_frames, floor_size, floor_batch, reader_cpu; /* floor mode */
    double warm_rate; /* ownership warm-up: first locations per second */
} opt = {.proto = PROTO_VENTA,
         .host = "127.0.0.1",
         .viewers = 1000,
         .areas = 1,
         .vconns = 4,
         .per_conn = 250,
         .src = 8,
         .step_s = 6,
         .warm_s = 2,
         .pending_max = 256,
         .warm_rate = 2000,
         .floor_frames = 200000,
         .floor_size = 108, /* a vendor_sync packet of sio-venta */
         .floor_batch = 1,
         .reader_cpu = -1};

static int ep;
static conn *conns;
static int nconns;
static vendor_t *vendors;
static int nvendors;
static char *rbuf;
static volatile sig_atomic_t stop_flag;
static bool warm_outside;    /* ownership warm-up: positions far outside every viewer's box */
static uint64_t sio_ack_ids; /* sio-venta: the ack id of the last updateVendorLocation */
static double last_ratio = 1;

/* counters; reset per step where it says so */
static uint64_t deliveries, unmatched, errors_seen, other_msgs, frames_in;
static uint64_t ready_viewers, ready_vendor_conns, closed_conns, failed_conns;
static uint64_t
    closes_by_code[5]; /* 1000..1013 folded: [0]=1000/1001 [1]=1008 [2]=1009 [3]=1013 [4]=other */
static uint32_t *hist;
static uint64_t hist_n, hist_max_ns;
static int64_t measure_from_ns; /* deliveries before this are not in the histogram */
static uint64_t measured_deliveries;
static int printed_errors;

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint32_t rnd_state = 2463534242u;
static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* ------------------------------------------------------------------ output, masking */

static void conn_arm(conn *c, bool want_out)
{
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(conn *c)
{
    if (c->state == ST_CLOSED)
        return;
    if (c->state < ST_OPEN)
        failed_conns++;
    if (c->state == ST_READY) {
        if (c->role == ROLE_VIEWER)
            ready_viewers--;
        else
            ready_vendor_conns--;
    }
    c->state = ST_CLOSED;
    closed_conns++;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->carry);
    free(c->frag);
    free(c->out);
    c->carry = c->frag = c->out = NULL;
    c->ncarry = c->nfrag = c->nout = c->capout = 0;
}

static void conn_flush(conn *c)
{
    while (c->nout) {
        ssize_t n = send(c->fd, c->out, c->nout, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                conn_arm(c, true);
                return;
            }
            conn_close(c);
            return;
        }
        memmove(c->out, c->out + n, c->nout - (size_t)n);
        c->nout -= (size_t)n;
    }
    conn_arm(c, false);
}

static void out_append(conn *c, const void *p, size_t n)
{
    if (c->nout + n > c->capout) {
        size_t cap = c->capout ? c->capout : 1024;
        while (cap < c->nout + n)
            cap *= 2;
        char *o = realloc(c->out, cap);
        if (!o)
            die("realloc");
        c->out = o;
        c->capout = cap;
    }
    memcpy(c->out + c->nout, p, n);
    c->nout += n;
}

/* Queue one masked client frame and try to send it now. */
static void send_frame(conn *c, int opcode, const char *payload, size_t len)
{
    if (c->state == ST_CLOSED)
        return;
    unsigned char hdr[14];
    size_t h = 0;
    hdr[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(len >> 8);
        hdr[h++] = (unsigned char)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    uint32_t key = rnd();
    unsigned char mk[4];
    memcpy(mk, &key, 4);
    memcpy(hdr + h, mk, 4);
    h += 4;
    bool was_empty = c->nout == 0;
    out_append(c, hdr, h);
    size_t at = c->nout;
    out_append(c, payload, len);
    unsigned char *p = (unsigned char *)c->out + at;
    for (size_t i = 0; i < len; i++)
        p[i] ^= mk[i & 3];
    if (was_empty)
        conn_flush(c);
}

/* ------------------------------------------------------------------ messages */

#define BOX_S 40.70
#define BOX_W (-74.00)
#define BOX_SIZE 0.10
#define CITY_COLS 50    /* a city's areas: 1° apart, CITY_COLS to a row */
#define KEY_MOD 1000000 /* sio-venta: keys carried in the coordinates' low digits */

static void vendor_id(int i, char out[37])
{
    snprintf(out, 37, "b0000000-0000-4000-8000-%012x", opt.first_vendor + i);
}

/* The south-west corner of area a (0 … areas - 1) of this process: the one shared box,
 * or a city's area on a 1° grid from 10°N 120°W (all north of the equator, so that the
 * ownership warm-up's mirrored positions are outside every box). */
static void area_origin(int a, double *lat, double *lng)
{
    if (opt.areas <= 1) {
        *lat = BOX_S;
        *lng = BOX_W;
        return;
    }
    int g = opt.area_base + a;
    *lat = 10.0 + (double)(g / CITY_COLS);
    *lng = -120.0 + (double)(g % CITY_COLS);
}

static const char *token_of(const conn *c)
{
    return c->role == ROLE_VIEWER ? opt.viewer_token : opt.vendor_token;
}

static void set_ready(conn *c)
{
    if (c->state != ST_OPEN)
        return;
    c->state = ST_READY;
    if (c->role == ROLE_VIEWER)
        ready_viewers++;
    else
        ready_vendor_conns++;
}

static void send_watch(conn *c)
{
    char m[256];
    double s, w;
    area_origin((int)(c->idx % (uint32_t)opt.areas), &s, &w);
    double n = s + BOX_SIZE, e = w + BOX_SIZE;
    if (opt.idle) { /* a small box: one cell, few vendors */
        n = s + 0.01;
        e = w + 0.01;
    }
    int len;
    if (opt.proto == PROTO_VENTA)
        len = snprintf(m, sizeof m,
                       "{\"op\":\"watch.bounds\",\"ne\":{\"lat\":%.4f,\"lng\":%.4f},"
                       "\"sw\":{\"lat\":%.4f,\"lng\":%.4f}}",
                       n, e, s, w);
    else if (opt.proto == PROTO_SIO)
        len = snprintf(m, sizeof m,
                       "420[\"watch\",{\"ne\":{\"lat\":%.4f,\"lng\":%.4f},\"sw\":{\"lat\":%.4f,"
                       "\"lng\":%.4f}}]",
                       n, e, s, w);
    else
        len =
            snprintf(m, sizeof m,
                     "42/user,[\"updateUserLocation\",{\"neLocation\":{\"lat\":%.4f,\"long\":%.4f},"
                     "\"swLocation\":{\"lat\":%.4f,\"long\":%.4f}}]",
                     n, e, s, w);
    send_frame(c, 1, m, (size_t)len);
}

/* A viewer whose connection (or namespace) is open: its watch, or ready without one. */
static void start_viewer(conn *c)
{
    if (opt.no_watch)
        set_ready(c);
    else
        send_watch(c);
}

/* One location of vendor vi on its connection, send time recorded under its key. */
static void send_location(int vi)
{
    vendor_t *v = &vendors[vi];
    conn *c = &conns[opt.viewers + vi / opt.per_conn];
    if (c->state != ST_READY && c->state != ST_OPEN)
        return;
    char id[37];
    vendor_id(vi, id);
    char m[320];
    int len;
    int64_t key;
    if (opt.proto == PROTO_SIO_VENTA) {
        key = (v->last_ts + 1) % KEY_MOD;
        v->last_ts = key;
        len = snprintf(m, sizeof m,
                       "42/vendor,%" PRIu64 "[\"updateVendorLocation\",{\"lat\":%.6f,\"long\":%.6f,"
                       "\"vendorId\":\"%s\"}]",
                       ++sio_ack_ids, v->lat + (double)(key % 1000) * 1e-6,
                       v->lng + (double)(key / 1000) * 1e-6, id);
    } else {
        key = wall_ms();
        if (key <= v->last_ts)
            key = v->last_ts + 1;
        v->last_ts = key;
        double lat = (v->lat + (double)(rnd() % 1000) * 1e-6) * (warm_outside ? -1 : 1),
               lng = v->lng + (double)(rnd() % 1000) * 1e-6;
        len = snprintf(m, sizeof m,
                       "%s{\"op\":\"location\",\"vendorId\":\"%s\",\"lat\":%.6f,\"lng\":%.6f,"
                       "\"heading\":%u,\"speed\":3.5,\"accuracy\":5,\"ts\":%" PRId64 "}%s",
                       opt.proto == PROTO_SIO ? "42[\"location\"," : "", id, lat, lng, rnd() % 360,
                       key, opt.proto == PROTO_SIO ? "]" : "");
    }
    sendrec *r = &v->ring[key % RING];
    r->ts = key;
    r->sent_ns = now_ns();
    send_frame(c, 1, m, (size_t)len);
}

static void record_latency(int64_t lat_ns, int64_t arrived)
{
    if (arrived < measure_from_ns)
        return;
    measured_deliveries++;
    if (lat_ns < 0)
        lat_ns = 0;
    uint64_t b = (uint64_t)lat_ns / (HIST_US * 1000);
    if (b >= HIST_N)
        b = HIST_N - 1;
    hist[b]++;
    hist_n++;
    if ((uint64_t)lat_ns > hist_max_ns)
        hist_max_ns = (uint64_t)lat_ns;
}

static uint64_t hex12(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 12; i++) {
        char ch = p[i];
        v = v * 16 + (uint64_t)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
    }
    return v;
}

/* One delivery of vendor vi's position with this key: its latency if we sent it. */
static void match_send(uint64_t vi, int64_t key, int64_t arrived)
{
    deliveries++;
    if (vi >= (uint64_t)nvendors || key < 0) {
        unmatched++;
        return;
    }
    sendrec *r = &vendors[vi].ring[key % RING];
    if (r->ts != key) {
        unmatched++;
        return;
    }
    record_latency(arrived - r->sent_ns, arrived);
}

/* A location/enter message (venta) or the object of a sio location event. */
static void on_delivery(const char *m, size_t len, int64_t arrived)
{
    const char *id = memmem(m, len, "\"vendorId\":\"", 12);
    const char *ts = memmem(m, len, "\"ts\":", 5);
    if (!id || !ts || id + 12 + 36 > m + len) {
        match_send(UINT64_MAX, -1, arrived);
        return;
    }
    match_send(hex12(id + 12 + 24) - (uint64_t)opt.first_vendor, strtoll(ts + 5, NULL, 10),
               arrived);
}

/* Whole µ° of a coordinate, modulo 1000 (the key digits of send_location). */
static int64_t micro_digits(double deg)
{
    int64_t u = llround(deg * 1e6) % 1000;
    return u < 0 ? u + 1000 : u;
}

/* The object of a vendor_sync: {"id":…,"location":{"lat":…,"long":…}}. */
static void on_vendor_sync(const char *m, size_t len, int64_t arrived)
{
    const char *id = memmem(m, len, "\"id\":\"", 6);
    const char *lat = memmem(m, len, "\"lat\":", 6);
    const char *lng = memmem(m, len, "\"long\":", 7);
    if (!id || !lat || !lng || id + 6 + 36 > m + len) {
        match_send(UINT64_MAX, -1, arrived);
        return;
    }
    int64_t key = micro_digits(strtod(lng + 7, NULL)) * 1000 + micro_digits(strtod(lat + 6, NULL));
    match_send(hex12(id + 6 + 24) - (uint64_t)opt.first_vendor, key, arrived);
}

static void on_error_msg(const char *m, size_t len)
{
    errors_seen++;
    if (printed_errors++ < 5)
        fprintf(stderr, "ws-load: server error: %.*s\n", (int)(len > 300 ? 300 : len), m);
}

/* An ack: of a vendor's location (ready once each of its vendors has one), or, in the
 * sio dialect, of a viewer's watch. */
static void on_ack(conn *c)
{
    c->acks++;
    if (c->role == ROLE_VENDOR ? c->acks >= (uint32_t)opt.per_conn : opt.proto == PROTO_SIO)
        set_ready(c);
}

static void on_venta_message(conn *c, const char *m, size_t len, int64_t arrived)
{
    if (len > 8 && memcmp(m, "{\"op\":\"", 7) == 0) {
        const char *op = m + 7;
        size_t rest = len - 7;
        if ((rest > 9 && memcmp(op, "location\"", 9) == 0) ||
            (rest > 6 && memcmp(op, "enter\"", 6) == 0)) {
            on_delivery(m, len, arrived);
            return;
        }
        if (rest > 4 && memcmp(op, "ack\"", 4) == 0) {
            on_ack(c);
            return;
        }
        if (rest > 9 && memcmp(op, "snapshot\"", 9) == 0) {
            if (c->role == ROLE_VIEWER)
                set_ready(c);
            return;
        }
        if (rest > 6 && memcmp(op, "error\"", 6) == 0) {
            on_error_msg(m, len);
            return;
        }
    }
    other_msgs++;
}

/* A socket.io packet inside an Engine.IO message: 4<type>[/<nsp>,][<ack id>][<data>]. */
typedef struct {
    int type; /* 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR */
    const char *data;
    size_t len;
} sio_packet;

static bool sio_parse(const char *m, size_t len, sio_packet *p)
{
    if (len < 2 || m[0] != '4' || m[1] < '0' || m[1] > '6')
        return false;
    size_t i = 2;
    if (i < len && m[i] == '/') { /* the namespace: one per connection here */
        const char *comma = memchr(m + i, ',', len - i);
        i = comma ? (size_t)(comma - m) + 1 : len;
    }
    while (i < len && m[i] >= '0' && m[i] <= '9') /* the ack id: ours, not needed back */
        i++;
    *p = (sio_packet){.type = m[1] - '0', .data = m + i, .len = len - i};
    return true;
}

/* The argument of event `name` in p's data (["name",<arg>]), or NULL. */
static const char *sio_event_arg(const sio_packet *p, const char *name, size_t *arglen)
{
    size_t n = strlen(name);
    if (p->len < n + 6 || memcmp(p->data, "[\"", 2) != 0 || memcmp(p->data + 2, name, n) != 0 ||
        memcmp(p->data + 2 + n, "\",", 2) != 0)
        return NULL;
    *arglen = p->len - (n + 4) - 1; /* without the closing ']' */
    return p->data + n + 4;
}

/* The Engine.IO open packet: CONNECT to our namespace (sio-venta: with the token). */
static void sio_connect(conn *c)
{
    if (opt.proto == PROTO_SIO) {
        send_frame(c, 1, "40", 2);
        return;
    }
    char m[4200];
    const char *tok = token_of(c);
    int len = snprintf(m, sizeof m, "40%s,{\"token\":\"%s\"}",
                       c->role == ROLE_VIEWER ? "/user" : "/vendor", tok ? tok : "");
    send_frame(c, 1, m, (size_t)len);
}

static void on_sio_message(conn *c, const char *m, size_t len, int64_t arrived)
{
    if (len == 1 && m[0] == '2') { /* Engine.IO ping */
        send_frame(c, 1, "3", 1);
        return;
    }
    if (len >= 2 && m[0] == '0' && m[1] == '{') { /* Engine.IO open */
        sio_connect(c);
        return;
    }
    sio_packet p;
    const char *arg;
    size_t alen;
    if (!sio_parse(m, len, &p)) {
        other_msgs++;
        return;
    }
    switch (p.type) {
    case 0: /* namespace connected */
        if (c->sio_open)
            return;
        c->sio_open = 1;
        if (c->role == ROLE_VIEWER)
            start_viewer(c);
        else if (opt.proto == PROTO_SIO)
            set_ready(c); /* sio-venta vendors: at the acks of the warm-up */
        return;
    case 3:
        on_ack(c);
        return;
    case 4:
        on_error_msg(m, len);
        return;
    case 2:
        if ((arg = sio_event_arg(&p, "vendor_sync", &alen)))
            on_vendor_sync(arg, alen, arrived);
        else if ((arg = sio_event_arg(&p, "location", &alen)))
            on_delivery(arg, alen, arrived);
        else if (sio_event_arg(&p, "vendor_channels", &alen) && c->role == ROLE_VIEWER)
            set_ready(c);
        else if (sio_event_arg(&p, "error", &alen))
            on_error_msg(m, len);
        else
            other_msgs++;
        return;
    }
    other_msgs++;
}

static void on_text(conn *c, const char *p, size_t len, int64_t arrived)
{
    if (opt.proto != PROTO_VENTA) {
        on_sio_message(c, p, len, arrived);
        return;
    }
    const char *end = p + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n)
            on_venta_message(c, p, n, arrived);
        p += n + (nl ? 1 : 0);
    }
}

static void on_open(conn *c)
{
    c->state = ST_OPEN;
    if (opt.proto != PROTO_VENTA)
        return; /* waits for the Engine.IO open packet */
    if (c->role == ROLE_VIEWER)
        start_viewer(c);
}

/* Parse whole frames in buf; returns bytes consumed. */
static size_t parse_frames(conn *c, char *buf, size_t n, int64_t arrived)
{
    size_t at = 0;
    while (c->state != ST_CLOSED) {
        if (n - at < 2)
            break;
        unsigned char *f = (unsigned char *)buf + at;
        bool fin = f[0] & 0x80;
        int opcode = f[0] & 0x0f;
        bool masked = f[1] & 0x80;
        uint64_t len = f[1] & 0x7f;
        size_t h = 2;
        if (len == 126) {
            if (n - at < 4)
                break;
            len = ((uint64_t)f[2] << 8) | f[3];
            h = 4;
        } else if (len == 127) {
            if (n - at < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | f[2 + i];
            h = 10;
        }
        if (masked)
            h += 4; /* servers do not mask; tolerate it anyway (payload left masked) */
        if (len > (64u << 20)) {
            conn_close(c);
            break;
        }
        if (n - at < h + len)
            break;
        char *payload = buf + at + h;
        frames_in++;
        if (opcode == 1 || opcode == 0) {
            if (!fin || c->nfrag) {
                char *fr = realloc(c->frag, c->nfrag + len);
                if (!fr)
                    die("realloc");
                memcpy(fr + c->nfrag, payload, len);
                c->frag = fr;
                c->nfrag += len;
                if (fin) {
                    on_text(c, c->frag, c->nfrag, arrived);
                    free(c->frag);
                    c->frag = NULL;
                    c->nfrag = 0;
                }
            } else {
                on_text(c, payload, len, arrived);
            }
        } else if (opcode == 9) {
            send_frame(c, 10, payload, len);
        } else if (opcode == 8) {
            int code = len >= 2 ? ((unsigned char)payload[0] << 8) | (unsigned char)payload[1] : 0;
            int k = code == 1000 || code == 1001 ? 0
                    : code == 1008               ? 1
                    : code == 1009               ? 2
                    : code == 1013               ? 3
                                                 : 4;
            closes_by_code[k]++;
            if (closes_by_code[k] <= 3)
                fprintf(stderr, "ws-load: close %d %.*s\n", code, (int)(len > 2 ? len - 2 : 0),
                        payload + 2);
            conn_close(c);
            return at + h + len;
        }
        at += h + len;
    }
    return at;
}

static void on_readable(conn *c)
{
    size_t have = c->ncarry;
    if (have)
        memcpy(rbuf, c->carry, have);
    ssize_t r = recv(c->fd, rbuf + have, RBUF - have, 0);
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        conn_close(c);
        return;
    }
    int64_t arrived = now_ns();
    size_t n = have + (size_t)r;
    size_t at = 0;
    if (c->state == ST_HANDSHAKE) {
        char *e = memmem(rbuf, n, "\r\n\r\n", 4);
        if (!e) {
            at = 0;
            goto keep;
        }
        if (n < 12 || memcmp(rbuf + 9, "101", 3) != 0) {
            if (failed_conns < 3)
                fprintf(stderr, "ws-load: upgrade refused: %.*s\n", (int)(e - rbuf), rbuf);
            conn_close(c);
            return;
        }
        at = (size_t)(e + 4 - rbuf);
        on_open(c);
    }
    at += parse_frames(c, rbuf + at, n - at, arrived);
    if (c->state == ST_CLOSED)
        return;
keep:
    if (n - at > (size_t)RBUF / 2) { /* a frame larger than we take: give up on it */
        conn_close(c);
        return;
    }
    if (n - at) {
        char *k = realloc(c->carry, n - at);
        if (!k)
            die("realloc");
        memcpy(k, rbuf + at, n - at);
        c->carry = k;
    } else {
        free(c->carry);
        c->carry = NULL;
    }
    c->ncarry = n - at;
}

/* ------------------------------------------------------------------ connecting */

static int pending;

static void start_connect(conn *c, int src_i)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(src_i % opt.src));
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0)
        die("bind");
    c->port = (uint16_t)opt.ports[src_i % opt.nports];
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(c->port)};
    inet_pton(AF_INET, opt.host, &dst.sin_addr);
    c->fd = fd;
    c->state = ST_CONNECTING;
    int rc = connect(fd, (struct sockaddr *)&dst, sizeof dst);
    if (rc < 0 && errno != EINPROGRESS) {
        if (failed_conns < 3)
            perror("ws-load: connect");
        c->state = ST_CLOSED;
        close(fd);
        failed_conns++;
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    pending++;
}

static void on_connected(conn *c)
{
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
        if (failed_conns < 3)
            fprintf(stderr, "ws-load: connect: %s\n", strerror(err));
        conn_close(c);
        return;
    }
    char req[4096];
    const char *tok = token_of(c);
    int len;
    if (opt.proto == PROTO_VENTA)
        len = snprintf(req, sizeof req,
                       "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: "
                       "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: venta.v1.json\r\n"
                       "%s%s%s\r\n",
                       opt.path ? opt.path : "/ws", opt.host, c->port,
                       tok ? "Authorization: Bearer " : "", tok ? tok : "", tok ? "\r\n" : "");
    else
        len = snprintf(req, sizeof req,
                       "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: "
                       "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n",
                       opt.path ? opt.path : "/socket.io/?EIO=4&transport=websocket", opt.host,
                       c->port);
    c->state = ST_HANDSHAKE;
    out_append(c, req, (size_t)len);
    conn_flush(c);
}

static void handle_event(struct epoll_event *e)
{
    conn *c = e->data.ptr;
    if (c->state == ST_CLOSED)
        return;
    if (c->state == ST_CONNECTING) {
        if (e->events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
            on_connected(c);
        }
        return;
    }
    if (e->events & EPOLLOUT)
        conn_flush(c);
    if (c->state != ST_CLOSED && (e->events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        on_readable(c);
}

static void poll_once(int timeout_ms)
{
    static struct epoll_event evs[1024];
    int n = epoll_wait(ep, evs, 1024, timeout_ms);
    for (int i = 0; i < n; i++) {
        conn *c = evs[i].data.ptr;
        bool was_pending = c->state == ST_CONNECTING || c->state == ST_HANDSHAKE ||
                           (c->state == ST_OPEN && c->role == ROLE_VIEWER);
        handle_event(&evs[i]);
        bool now_pending = c->state == ST_CONNECTING || c->state == ST_HANDSHAKE ||
                           (c->state == ST_OPEN && c->role == ROLE_VIEWER);
        if (was_pending && !now_pending)
            pending--;
    }
}

/* Open conns [from, to): at most pending_max handshakes in flight. */
static void open_all(int from, int to, int role, double timeout_s)
{
    int64_t t0 = now_ns();
    int next = from;
    while (!stop_flag) {
        while (next < to && pending < opt.pending_max) {
            conns[next].role = (uint8_t)role;
            conns[next].idx = (uint32_t)(next - from);
            start_connect(&conns[next], next);
            next++;
        }
        if (next >= to && pending <= 0)
            break;
        if ((double)(now_ns() - t0) / 1e9 > timeout_s) {
            fprintf(stderr, "ws-load: timeout opening connections (%d pending)\n", pending);
            break;
        }
        poll_once(5);
    }
}

/* ------------------------------------------------------------------ fan-out steps */

static double cpu_of(int pid)
{
    if (pid <= 0)
        return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    unsigned long ut = 0, st = 0;
    /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
     */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of every server process (--server-pid). */
static double servers_cpu(void)
{
    double s = 0;
    for (int i = 0; i < opt.nserver_pids; i++)
        s += cpu_of(opt.server_pids[i]);
    return s;
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static double pct(double p)
{
    if (!hist_n)
        return 0;
    uint64_t want = (uint64_t)(p * (double)hist_n), acc = 0;
    if (want >= hist_n)
        want = hist_n - 1;
    for (uint64_t b = 0; b < HIST_N; b++) {
        acc += hist[b];
        if (acc > want)
            return (double)(b * HIST_US + HIST_US / 2) / 1000.0; /* ms, bucket middle */
    }
    return (double)hist_max_ns / 1e6;
}

/* --sync: say this process is at step (and whether it would stop), wait for the others
 * (serving its connections meanwhile; 120 s at most); true when any would stop. */
static bool sync_all(int step, bool stop)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%d.%d.%d", opt.sync_dir, step, opt.sync_i, stop ? 1 : 0);
    FILE *f = fopen(path, "w");
    if (!f)
        die(path);
    fclose(f);
    char prefix[32];
    int plen = snprintf(prefix, sizeof prefix, "%d.", step);
    int64_t t0 = now_ns();
    for (;;) {
        int seen = 0;
        bool any_stop = false;
        DIR *d = opendir(opt.sync_dir);
        if (!d)
            die(opt.sync_dir);
        for (struct dirent *e; (e = readdir(d));) {
            if (strncmp(e->d_name, prefix, (size_t)plen) != 0)
                continue;
            seen++;
            size_t n = strlen(e->d_name);
            any_stop |= n > 2 && strcmp(e->d_name + n - 2, ".1") == 0;
        }
        closedir(d);
        if (seen >= opt.sync_n || stop_flag || now_ns() - t0 > 120000000000LL)
            return any_stop;
        poll_once(10);
    }
}

static void run_step(double rate)
{
    memset(hist, 0, sizeof(uint32_t) * HIST_N);
    hist_n = hist_max_ns = 0;
    measured_deliveries = 0;
    uint64_t unmatched0 = unmatched, err0 = errors_seen, closed0 = closed_conns;
    int64_t t0 = now_ns();
    int64_t t_end = t0 + (int64_t)(opt.step_s * 1e9);
    measure_from_ns = t0 + (int64_t)(opt.warm_s * 1e9);
    double srv0 = 0, self0 = 0;
    bool measuring = false;
    uint64_t sent = 0, sent_measured0 = 0;
    int vi = 0;
    while (!stop_flag) {
        int64_t t = now_ns();
        if (!measuring && t >= measure_from_ns) {
            measuring = true;
            srv0 = servers_cpu();
            self0 = self_cpu();
            sent_measured0 = sent;
        }
        if (t >= t_end)
            break;
        uint64_t due = (uint64_t)(rate * (double)(t - t0) / 1e9);
        int burst = 0;
        while (sent < due && burst < 10000) {
            send_location(vi);
            vi = (vi + 1) % nvendors;
            sent++;
            burst++;
        }
        poll_once(1);
    }
    double srv = servers_cpu() - srv0, self = self_cpu() - self0;
    double secs = opt.step_s - opt.warm_s;
    uint64_t sent_in = sent - sent_measured0;
    uint64_t live = ready_viewers;              /* viewers still open */
    double per_area = (double)live / opt.areas; /* each position goes to its area's viewers */
    double p50 = pct(0.50), p99 = pct(0.99), p999 = pct(0.999);
    double mx = (double)hist_max_ns / 1e6;
    uint64_t got = measured_deliveries;
    /* drain: until nothing arrived for 300 ms (or 15 s) */
    int64_t quiet_from = now_ns(), dstart = quiet_from;
    uint64_t last = deliveries;
    while (!stop_flag && now_ns() - quiet_from < 300000000LL && now_ns() - dstart < 15000000000LL) {
        poll_once(10);
        if (deliveries != last) {
            last = deliveries;
            quiet_from = now_ns();
        }
    }
    printf("step rate=%.0f viewers=%" PRIu64
           " areas=%d sent_per_s=%.0f offered_dps=%.0f delivered_dps=%.0f "
           "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f unmatched=%" PRIu64 " errors=%" PRIu64
           " closed=%" PRIu64 " server_cpu=%.2f gen_cpu=%.2f drain_s=%.2f\n",
           rate, live, opt.areas, (double)sent_in / secs, (double)sent_in / secs * per_area,
           (double)got / secs, p50, p99, p999, mx, unmatched - unmatched0, errors_seen - err0,
           closed_conns - closed0, srv / secs, self / secs, (double)(now_ns() - dstart) / 1e9);
    fflush(stdout);
    last_ratio = sent_in && live ? (double)got / ((double)sent_in * per_area) : 0;
}

/* ------------------------------------------------------------------ floor */

/* The physical floor beside a fan-out result: the sender's CPU per frame when a frame
 * costs one loopback send() and nothing else (no parsing, queue or epoll). A server
 * that writes one frame per delivery per send(), as socket.io does, cannot go below
 * it on this machine. Blocking sockets: a full socket buffer sleeps, costing no CPU. */
static int run_floor(void)
{
    int k = opt.viewers > 0 ? opt.viewers : 1, batch = opt.floor_batch;
    size_t size = (size_t)opt.floor_size, hdr = size < 126 ? 2 : 4, flen = hdr + size;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int *cli = calloc((size_t)k, sizeof *cli), *srv = calloc((size_t)k, sizeof *srv);
    char *buf = malloc(flen * (size_t)batch);
    if (lfd < 0 || !cli || !srv || !buf || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(lfd, 4096) < 0 || getsockname(lfd, (struct sockaddr *)&a, &al) < 0)
        die("ws-load floor: listen");
    for (int i = 0; i < k; i++) {
        int one = 1;
        cli[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cli[i] < 0 || connect(cli[i], (struct sockaddr *)&a, sizeof a) < 0)
            die("ws-load floor: connect");
        if ((srv[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
            die("ws-load floor: accept");
        setsockopt(srv[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    pid_t reader = fork();
    if (reader < 0)
        die("fork");
    if (reader == 0) { /* drain every connection until the sender closes them */
        if (opt.reader_cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(opt.reader_cpu, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        int e = epoll_create1(EPOLL_CLOEXEC), open_n = k;
        for (int i = 0; i < k; i++) {
            close(srv[i]);
            struct epoll_event ev = {.events = EPOLLIN, .data.fd = cli[i]};
            epoll_ctl(e, EPOLL_CTL_ADD, cli[i], &ev);
        }
        struct epoll_event evs[256];
        while (open_n > 0) {
            int n = epoll_wait(e, evs, 256, -1);
            for (int j = 0; j < n; j++) {
                if (read(evs[j].data.fd, rbuf, RBUF) <= 0) {
                    epoll_ctl(e, EPOLL_CTL_DEL, evs[j].data.fd, NULL);
                    close(evs[j].data.fd);
                    open_n--;
                }
            }
        }
        _exit(0);
    }
    for (int i = 0; i < k; i++)
        close(cli[i]);
    for (int b = 0; b < batch; b++) { /* unmasked server text frames of size bytes */
        unsigned char *f = (unsigned char *)buf + (size_t)b * flen;
        f[0] = 0x81;
        f[1] = (unsigned char)(hdr == 2 ? size : 126);
        if (hdr == 4) {
            f[2] = (unsigned char)(size >> 8);
            f[3] = (unsigned char)size;
        }
        memset(f + hdr, 'x', size);
    }
    uint64_t sends = ((uint64_t)opt.floor_frames + (uint64_t)batch - 1) / (uint64_t)batch;
    double c0 = self_cpu();
    int64_t t0 = now_ns();
    for (uint64_t i = 0; i < sends; i++)
        if (send(srv[i % (uint64_t)k], buf, flen * (size_t)batch, MSG_NOSIGNAL) !=
            (ssize_t)(flen * (size_t)batch))
            die("ws-load floor: send");
    double cpu = self_cpu() - c0, wall = (double)(now_ns() - t0) / 1e9;
    for (int i = 0; i < k; i++)
        close(srv[i]);
    waitpid(reader, NULL, 0);
    double frames = (double)sends * batch;
    printf("floor conns=%d frame_bytes=%zu batch=%d frames=%.0f cpu_us_per_frame=%.3f "
           "cpu_us_per_send=%.3f frames_per_cpu_s=%.0f wall_s=%.2f\n",
           k, flen, batch, frames, cpu * 1e6 / frames, cpu * 1e6 / (double)sends,
           cpu > 0 ? frames / cpu : 0, wall);
    return 0;
}

/* ------------------------------------------------------------------ main */

static void on_sig(int s)
{
    (void)s;
    stop_flag = 1;
}

static const char *read_token(const char *arg)
{
    if (!arg || arg[0] != '@')
        return arg;
    FILE *f = fopen(arg + 1, "r");
    if (!f)
        die(arg + 1);
    static char bufs[2][4096];
    static int k;
    char *b = bufs[k++ & 1];
    size_t n = fread(b, 1, 4095, f);
    fclose(f);
    while (n && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' '))
        n--;
    b[n] = 0;
    return b;
}

/* Comma-separated integers into out (at most max); returns how many. */
static int int_list(const char *v, int *out, int max)
{
    int n = 0;
    for (const char *p = v; *p && n < max;) {
        out[n++] = atoi(p);
        const char *comma = strchr(p, ',');
        if (!comma)
            break;
        p = comma + 1;
    }
    return n;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: ws-load fanout|idle|floor [--proto venta|sio|sio-venta] [--host H] "
            "[--port P[,P2...]] [--path P]\n"
            "  [--viewers V] [--vendor-conns P] [--vendors-per-conn K] [--src S]\n"
            "  [--areas A] [--area-base B] [--first-vendor N] [--sync DIR,N,I]\n"
            "  [--viewer-token T|@file] [--vendor-token T|@file] [--rates r1,r2,...]\n"
            "  [--step SECONDS] [--warm SECONDS] [--hold SECONDS] [--no-watch]\n"
            "  [--server-pid PID] [--pending N] [--stop-below FRACTION]\n"
            "  floor: [--viewers V] [--frames N] [--size BYTES] [--batch F] [--reader-cpu C]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    opt.idle = strcmp(argv[1], "idle") == 0;
    opt.floor = strcmp(argv[1], "floor") == 0;
    if (!opt.idle && !opt.floor && strcmp(argv[1], "fanout") != 0)
        usage();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (ARG("--proto"))
            opt.proto = strcmp(v, "sio") == 0         ? PROTO_SIO
                        : strcmp(v, "sio-venta") == 0 ? PROTO_SIO_VENTA
                        : strcmp(v, "venta") == 0     ? PROTO_VENTA
                                                      : -1;
        else if (ARG("--host"))
            opt.host = v;
        else if (ARG("--port"))
            opt.nports = int_list(v, opt.ports, 16);
        else if (ARG("--areas"))
            opt.areas = atoi(v);
        else if (ARG("--area-base"))
            opt.area_base = atoi(v);
        else if (ARG("--first-vendor"))
            opt.first_vendor = atoi(v);
        else if (ARG("--sync")) {
            static char dir[4096];
            int parts[2] = {0, 0};
            const char *comma = strchr(v, ',');
            if (!comma || comma - v >= (long)sizeof dir || int_list(comma + 1, parts, 2) != 2)
                usage();
            memcpy(dir, v, (size_t)(comma - v));
            opt.sync_dir = dir;
            opt.sync_n = parts[0];
            opt.sync_i = parts[1];
        } else if (ARG("--path"))
            opt.path = v;
        else if (ARG("--viewers"))
            opt.viewers = atoi(v);
        else if (ARG("--vendor-conns"))
            opt.vconns = atoi(v);
        else if (ARG("--vendors-per-conn"))
            opt.per_conn = atoi(v);
        else if (ARG("--src"))
            opt.src = atoi(v);
        else if (ARG("--viewer-token"))
            opt.viewer_token = read_token(v);
        else if (ARG("--vendor-token"))
            opt.vendor_token = read_token(v);
        else if (ARG("--rates")) {
            char *s = strdup(v), *save = NULL;
            for (char *t = strtok_r(s, ",", &save); t && opt.nrates < 32;
                 t = strtok_r(NULL, ",", &save))
                opt.rates[opt.nrates++] = atof(t);
            free(s);
        } else if (ARG("--step"))
            opt.step_s = atof(v);
        else if (ARG("--warm"))
            opt.warm_s = atof(v);
        else if (ARG("--hold"))
            opt.hold_s = atof(v);
        else if (ARG("--server-pid"))
            opt.nserver_pids = int_list(v, opt.server_pids, 16);
        else if (ARG("--stop-below"))
            opt.stop_below = atof(v);
        else if (ARG("--pending"))
            opt.pending_max = atoi(v);
        else if (ARG("--frames"))
            opt.floor_frames = atoi(v);
        else if (ARG("--size"))
            opt.floor_size = atoi(v);
        else if (ARG("--batch"))
            opt.floor_batch = atoi(v);
        else if (ARG("--reader-cpu"))
            opt.reader_cpu = atoi(v);
        else if (strcmp(a, "--no-watch") == 0)
            opt.no_watch = true;
        else
            usage();
#undef ARG
    }
    if (opt.idle)
        opt.vconns = 0;
    if (opt.proto < 0 || opt.src < 1 || opt.src > 250 || opt.viewers < 0 || opt.vconns < 0 ||
        opt.per_conn < 1 || opt.floor_frames < 1 || opt.floor_size < 1 || opt.floor_size > 65535 ||
        opt.floor_batch < 1 || opt.floor_batch > 1024 || opt.areas < 1 || opt.area_base < 0 ||
        opt.first_vendor < 0)
        usage();
    if (opt.nports == 0)
        opt.ports[opt.nports++] = 8081;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)(opt.viewers + opt.vconns + 64) > rl.rlim_cur) {
        fprintf(stderr, "ws-load: fd limit %lu < %d connections: raise ulimit -n\n",
                (unsigned long)rl.rlim_cur, opt.viewers + opt.vconns);
        return 2;
    }
    rnd_state ^= (uint32_t)getpid();
    nconns = opt.viewers + opt.vconns;
    conns = calloc((size_t)nconns + 1, sizeof *conns);
    nvendors = opt.vconns * opt.per_conn;
    vendors = calloc((size_t)nvendors + 1, sizeof *vendors);
    hist = calloc(HIST_N, sizeof *hist);
    rbuf = malloc(RBUF);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || !vendors || !hist || !rbuf || ep < 0)
        die("setup");
    if (opt.floor)
        return run_floor();
    for (int i = 0; i < nvendors; i++) { /* homes spread over their box's middle */
        double s, w;
        area_origin(i % opt.areas, &s, &w);
        if (opt.proto == PROTO_SIO_VENTA) { /* a 0.001° grid: the keys go below it */
            vendors[i].lat = s + 0.02 + 0.001 * (double)(rnd() % 60);
            vendors[i].lng = w + 0.02 + 0.001 * (double)(rnd() % 60);
            continue;
        }
        vendors[i].lat = s + 0.02 + 0.06 * (double)(rnd() % 10000) / 10000.0;
        vendors[i].lng = w + 0.02 + 0.06 * (double)(rnd() % 10000) / 10000.0;
    }
    int64_t t0 = now_ns();

    if (opt.idle) {
        open_all(0, opt.viewers, ROLE_VIEWER, 600);
        printf("READY conns=%" PRIu64 " failed=%" PRIu64 " closed=%" PRIu64 " open_s=%.1f\n",
               ready_viewers, failed_conns, closed_conns, (double)(now_ns() - t0) / 1e9);
        fflush(stdout);
        int64_t until = opt.hold_s > 0 ? now_ns() + (int64_t)(opt.hold_s * 1e9) : INT64_MAX;
        while (!stop_flag && now_ns() < until)
            poll_once(100);
        printf("HELD conns_open=%" PRIu64 " closed=%" PRIu64 " other_msgs=%" PRIu64 "\n",
               ready_viewers, closed_conns, other_msgs);
        return 0;
    }

    /* vendors first: connect, then the first location of each vendor, paced, and wait
     * for every ack (ownership checked) before any viewer exists (sio: no acks, ready
     * at the namespace CONNECT). */
    open_all(opt.viewers, nconns, ROLE_VENDOR, 60);
    int open_vendor = 0;
    for (int i = opt.viewers; i < nconns; i++)
        open_vendor += conns[i].state == ST_OPEN || conns[i].state == ST_READY;
    if (opt.proto != PROTO_VENTA) { /* socket.io: the namespace CONNECT first */
        int connected = 0;
        while (!stop_flag && connected < open_vendor && (now_ns() - t0) < 30000000000LL) {
            poll_once(5);
            connected = 0;
            for (int i = opt.viewers; i < nconns; i++)
                connected += conns[i].sio_open;
        }
    }
    if (opt.proto != PROTO_SIO) {
        int64_t w0 = now_ns();
        int sent = 0;
        warm_outside = opt.proto == PROTO_VENTA;
        while (!stop_flag && ready_vendor_conns < (uint64_t)open_vendor &&
               now_ns() - w0 < 60000000000LL) {
            int due = (int)(opt.warm_rate * (double)(now_ns() - w0) / 1e9);
            while (sent < nvendors && sent < due)
                send_location(sent++);
            poll_once(2);
        }
    }
    warm_outside = false;
    fprintf(stderr, "ws-load: %" PRIu64 "/%d vendor connections ready (%d vendors) in %.1fs\n",
            ready_vendor_conns, opt.vconns, nvendors, (double)(now_ns() - t0) / 1e9);
    int64_t t1 = now_ns();
    open_all(0, opt.viewers, ROLE_VIEWER, 300);
    fprintf(stderr, "ws-load: %" PRIu64 "/%d viewers ready in %.1fs (failed %" PRIu64 ")\n",
            ready_viewers, opt.viewers, (double)(now_ns() - t1) / 1e9, failed_conns);
    printf("setup vendor_conns=%" PRIu64 " vendors=%d viewers=%" PRIu64 " failed=%" PRIu64
           " viewers_open_s=%.1f server_cpu_s=%.2f\n",
           ready_vendor_conns, nvendors, ready_viewers, failed_conns, (double)(now_ns() - t1) / 1e9,
           servers_cpu());
    fflush(stdout);
    if (ready_vendor_conns == 0 || ready_viewers == 0)
        return 1;
    /* let snapshots and enter messages settle */
    for (int i = 0; i < 50 && !stop_flag; i++)
        poll_once(10);
    bool stop = false;
    for (int s = 0; s < opt.nrates && !stop_flag; s++) {
        if (opt.sync_dir ? sync_all(s, stop) : stop) /* the others wait at step s too */
            break;
        run_step(opt.rates[s]);
        stop = last_ratio < opt.stop_below;
    }
    printf("closes normal=%" PRIu64 " policy=%" PRIu64 " too_big=%" PRIu64 " too_slow=%" PRIu64
           " other=%" PRIu64 " frames_in=%" PRIu64 " other_msgs=%" PRIu64 "\n",
           closes_by_code[0], closes_by_code[1], closes_by_code[2], closes_by_code[3],
           closes_by_code[4], frames_in, other_msgs);
    return 0;
}
