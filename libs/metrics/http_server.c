/*
 * http_server.c — the /metrics endpoint of the gRPC services (VENTA_METRICS_ADDR).
 *
 * Scrapes are rare and tiny, so one thread serves them one at a time with blocking
 * sockets: a 2 s receive/send timeout bounds what a stuck client can cost, and poll()
 * with a short timeout lets vt_metrics_server_stop end the thread promptly. Only
 * `GET /metrics`, `GET /healthz` and, with a ready callback, `GET /readyz` exist;
 * everything else is 404 or 405.
 */
#include "vt_metrics.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct vt_metrics_server {
    vt_metrics *reg;
    vt_addr addr;
    bool (*ready)(void *user);
    void *ready_user;
    bool running;
    int fd;
    int port;
    atomic_bool stopping;
    pthread_t thread;
};

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

static void respond(int fd, int status, const char *reason, const char *type, const char *body,
                    size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason, type, len);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

static void serve_one(vt_metrics_server *srv, int fd)
{
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char req[4096];
    size_t used = 0;
    while (used < sizeof req - 1 && !memmem(req, used, "\r\n\r\n", 4)) {
        ssize_t n = recv(fd, req + used, sizeof req - 1 - used, 0);
        if (n <= 0)
            return;
        used += (size_t)n;
    }
    req[used] = '\0';
    char method[16], path[256];
    if (sscanf(req, "%15s %255s", method, path) != 2) {
        respond(fd, 400, "Bad Request", "text/plain", "bad request\n", 12);
        return;
    }
    char *query = strchr(path, '?');
    if (query)
        *query = '\0';
    bool readyz = srv->ready && strcmp(path, "/readyz") == 0;
    bool known = strcmp(path, "/metrics") == 0 || strcmp(path, "/healthz") == 0 || readyz;
    if (!known) {
        respond(fd, 404, "Not Found", "text/plain", "not found\n", 10);
    } else if (strcmp(method, "GET") != 0) {
        respond(fd, 405, "Method Not Allowed", "text/plain", "use GET\n", 8);
    } else if (strcmp(path, "/healthz") == 0) {
        respond(fd, 200, "OK", "application/json", "{\"status\":\"ok\"}", 15);
    } else if (readyz) {
        if (srv->ready(srv->ready_user))
            respond(fd, 200, "OK", "application/json", "{\"status\":\"ready\"}", 18);
        else
            respond(fd, 503, "Service Unavailable", "application/json",
                    "{\"status\":\"not ready\"}", 22);
    } else {
        char *body;
        size_t len = vt_metrics_render(srv->reg, &body);
        respond(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, len);
        free(body);
    }
}

static void *serve(void *arg)
{
    vt_metrics_server *srv = arg;
    while (!atomic_load(&srv->stopping)) {
        struct pollfd p = {.fd = srv->fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        int fd = accept(srv->fd, NULL, NULL);
        if (fd < 0)
            continue;
        serve_one(srv, fd);
        close(fd);
    }
    return NULL;
}

int vt_metrics_server_new(const vt_metrics_server_opts *opts, vt_metrics_server **out, char *err,
                          size_t errlen)
{
    if (!opts || !opts->reg) {
        snprintf(err, errlen, "a metrics server needs a registry");
        return VT_INVALID_ARGUMENT;
    }
    vt_metrics_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return VT_RESOURCE_EXHAUSTED;
    }
    srv->reg = opts->reg;
    srv->addr = opts->addr;
    srv->ready = opts->ready;
    srv->ready_user = opts->ready_user;
    srv->fd = -1;
    *out = srv;
    return VT_OK;
}

int vt_metrics_server_start(vt_metrics_server *srv, char *err, size_t errlen)
{
    const vt_addr *addr = &srv->addr;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", addr->port);
    int gai = getaddrinfo(addr->host, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "metrics address %s: %s", addr->host, gai_strerror(gai));
        return VT_INVALID_ARGUMENT;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        snprintf(err, errlen, "cannot listen for /metrics on %s:%u: %m", addr->host, addr->port);
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return VT_UNAVAILABLE;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &blen);
    srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    srv->fd = fd;
    atomic_store(&srv->stopping, false);
    if (pthread_create(&srv->thread, NULL, serve, srv) != 0) {
        close(fd);
        srv->fd = -1;
        snprintf(err, errlen, "cannot start the metrics thread");
        return VT_RESOURCE_EXHAUSTED;
    }
    srv->running = true;
    return VT_OK;
}

int vt_metrics_server_port(const vt_metrics_server *srv)
{
    return srv->port;
}

void vt_metrics_server_stop(vt_metrics_server *srv)
{
    if (!srv || !srv->running)
        return;
    atomic_store(&srv->stopping, true);
    pthread_join(srv->thread, NULL);
    close(srv->fd);
    srv->fd = -1;
    srv->running = false;
}

void vt_metrics_server_free(vt_metrics_server *srv)
{
    vt_metrics_server_stop(srv);
    free(srv);
}
