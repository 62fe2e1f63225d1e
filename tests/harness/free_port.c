/*
 * free_port.c — print N free TCP ports on 127.0.0.1, one per line.
 *
 * The harness asks the kernel (bind to port 0) instead of guessing, holding every
 * socket open until all are chosen so that one run never gets the same port twice.
 * Another process could still take a port before the server binds it; the harness
 * retries a server start on a fresh port when that happens.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 1;
    if (count < 1 || count > 64) {
        fprintf(stderr, "usage: free-port [1..64]\n");
        return 2;
    }
    int fds[64];
    for (int i = 0; i < count; i++) {
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
        socklen_t len = sizeof addr;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&addr, sizeof addr) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&addr, &len) != 0) {
            perror("free-port");
            return 1;
        }
        printf("%u\n", ntohs(addr.sin_port));
    }
    for (int i = 0; i < count; i++)
        close(fds[i]);
    return 0;
}
