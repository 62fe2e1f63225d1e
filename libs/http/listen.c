/*
 * listen.c — see vt_http.h (vt_http_resolve_listen).
 */
#include "vt_http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

void vt_http_resolve_listen(const char *var, vt_addr *addr)
{
    char out[INET_ADDRSTRLEN];
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char reason[512];
    int rc = getaddrinfo(addr->host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(reason, sizeof reason, "host %s does not resolve (%s)", addr->host,
                 gai_strerror(rc));
        vt_config_fail(var, reason);
    }
    bool found = false;
    for (const struct addrinfo *a = res; a && !found; a = a->ai_next)
        if (a->ai_family == AF_INET)
            found = inet_ntop(AF_INET, &((const struct sockaddr_in *)a->ai_addr)->sin_addr, out,
                              sizeof out) != NULL;
    freeaddrinfo(res);
    if (!found) {
        snprintf(reason, sizeof reason,
                 "host %s has no IPv4 address; the HTTP gateways listen on IPv4 only "
                 "(e.g. 0.0.0.0 or 127.0.0.1)",
                 addr->host);
        vt_config_fail(var, reason);
    }
    snprintf(addr->host, sizeof addr->host, "%s", out);
}
