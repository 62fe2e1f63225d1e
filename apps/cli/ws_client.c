/*
 * ws_client.c — see ws_client.h. The handshake is checked for 101 and the expected
 * Sec-WebSocket-Accept; frames from the server are parsed only far enough to answer
 * pings, notice a close and pass text on. Every frame we send is masked with fresh
 * random bytes, as the protocol requires of clients.
 */
#include "ws_client.h"

#include "vt_auth.h"
#include "vt_core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue; /* the simulator's frames are small: spin briefly rather than queue */
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ws_client_connect(ws_client *c, const char *host, int port, const char *path,
                      const char *authorization, const char *subprotocol, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%d", port);
    if (getaddrinfo(host, portstr, &hints, &ai) != 0) {
        snprintf(err, errlen, "cannot resolve %s", host);
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port, strerror(errno));
        freeaddrinfo(ai);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    freeaddrinfo(ai);

    unsigned char nonce[16];
    char key[32], expect[64], req[2048];
    vt_random_bytes(nonce, sizeof nonce);
    vt_auth_base64_encode(nonce, sizeof nonce, key, sizeof key);
    char accept_src[96];
    snprintf(accept_src, sizeof accept_src, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)accept_src, strlen(accept_src), digest);
    vt_auth_base64_encode(digest, sizeof digest, expect, sizeof expect);
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n"
                     "Authorization: %s\r\n\r\n",
                     path, host, port, key, subprotocol, authorization);
    if (n <= 0 || (size_t)n >= sizeof req || send_all(fd, req, (size_t)n) != 0) {
        snprintf(err, errlen, "cannot send the upgrade request");
        close(fd);
        return -1;
    }
    /* Read the response head byte-wise-ish: it is small and arrives at once. */
    size_t used = 0;
    char *end = NULL;
    while (!end && used < sizeof c->rx - 1) {
        ssize_t r = recv(fd, c->rx + used, sizeof c->rx - 1 - used, 0);
        if (r <= 0) {
            snprintf(err, errlen, "connection closed during the upgrade");
            close(fd);
            return -1;
        }
        used += (size_t)r;
        c->rx[used] = '\0';
        end = strstr(c->rx, "\r\n\r\n");
    }
    if (!end || strncmp(c->rx, "HTTP/1.1 101", 12) != 0 || !strcasestr(c->rx, expect)) {
        char *eol = strstr(c->rx, "\r\n");
        snprintf(err, errlen, "upgrade refused: %.*s", eol ? (int)(eol - c->rx) : 40, c->rx);
        close(fd);
        return -1;
    }
    size_t head = (size_t)(end + 4 - c->rx);
    memmove(c->rx, c->rx + head, used - head);
    c->rx_len = used - head;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    c->fd = fd;
    return 0;
}

static int send_frame(ws_client *c, int opcode, const void *data, size_t len)
{
    unsigned char head[14];
    size_t h = 0;
    head[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        head[h++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        head[h++] = 0x80 | 126;
        head[h++] = (unsigned char)(len >> 8);
        head[h++] = (unsigned char)len;
    } else {
        return -1; /* the simulator never sends this much */
    }
    unsigned char mask[4];
    vt_random_bytes(mask, sizeof mask);
    memcpy(head + h, mask, 4);
    h += 4;
    unsigned char body[65536];
    for (size_t i = 0; i < len; i++)
        body[i] = ((const unsigned char *)data)[i] ^ mask[i & 3];
    if (send_all(c->fd, head, h) != 0 || send_all(c->fd, body, len) != 0) {
        ws_client_close(c);
        return -1;
    }
    return 0;
}

int ws_client_send_text(ws_client *c, const char *text, size_t len)
{
    return c->fd < 0 ? -1 : send_frame(c, 0x1, text, len);
}

int ws_client_pump(ws_client *c, void (*on_text)(const char *, size_t, void *), void *user)
{
    if (c->fd < 0)
        return -1;
    for (;;) {
        ssize_t r = recv(c->fd, c->rx + c->rx_len, sizeof c->rx - c->rx_len, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            ws_client_close(c);
            return -1;
        }
        if (r > 0)
            c->rx_len += (size_t)r;
        /* Parse every complete frame. Server frames are unmasked. */
        size_t off = 0;
        while (c->rx_len - off >= 2) {
            unsigned char *f = (unsigned char *)c->rx + off;
            int opcode = f[0] & 0x0f;
            size_t len = f[1] & 0x7f, h = 2;
            if (len == 126) {
                if (c->rx_len - off < 4)
                    break;
                len = (size_t)f[2] << 8 | f[3];
                h = 4;
            } else if (len == 127) {
                ws_client_close(c); /* larger than our buffer: not a frame we expect */
                return -1;
            }
            if (h + len > sizeof c->rx) {
                ws_client_close(c);
                return -1;
            }
            if (c->rx_len - off < h + len)
                break;
            const char *payload = (const char *)f + h;
            if (opcode == 0x9)
                send_frame(c, 0xA, payload, len);
            else if (opcode == 0x8)
                c->close_code =
                    len >= 2 ? ((unsigned char)payload[0] << 8 | (unsigned char)payload[1]) : 1005;
            else if (opcode == 0x1 && on_text)
                on_text(payload, len, user);
            off += h + len;
        }
        memmove(c->rx, c->rx + off, c->rx_len - off);
        c->rx_len -= off;
        if (c->close_code) {
            ws_client_close(c);
            return -1;
        }
        if (r < 0)
            return 0; /* EAGAIN: all read */
    }
}

void ws_client_close(ws_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}
