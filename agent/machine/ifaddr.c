/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "ifaddr.h"

/* ifname NULL: on any interface. */
static int ipv4_present(const char *ifname, const struct in_addr *want) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ struct ifreq *reqs = NULL;
        struct ifconf ifc = {};
        size_t n = 16;

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* Grow the buffer until the kernel's answer fits with room to spare. */
        for (;;) {
                struct ifreq *p = realloc(reqs, n * sizeof(struct ifreq));

                if (!p)
                        return -ENOMEM;
                reqs = p;
                ifc = (struct ifconf) { .ifc_len = (int) (n * sizeof(struct ifreq)), .ifc_req = reqs };
                if (ioctl(fd, SIOCGIFCONF, &ifc) < 0)
                        return -errno;
                if ((size_t) ifc.ifc_len < n * sizeof(struct ifreq))
                        break;
                n *= 2;
        }
        for (size_t i = 0; i < (size_t) ifc.ifc_len / sizeof(struct ifreq); i++) {
                const struct sockaddr_in *sin = (const struct sockaddr_in *) &reqs[i].ifr_addr;
                char name[IFNAMSIZ + 1] = {};

                memcpy(name, reqs[i].ifr_name, IFNAMSIZ);
                /* Labelled addresses are "eth0:1". */
                name[strcspn(name, ":")] = 0;
                if (sin->sin_family == AF_INET && (!ifname || streq(name, ifname)) &&
                    sin->sin_addr.s_addr == want->s_addr)
                        return 1;
        }
        return 0;
}

static int ipv6_present(const char *ifname, const struct in6_addr *want) {
        _cleanup_free_ char *data = NULL;
        char hex[33];
        int r;

        for (size_t i = 0; i < 16; i++)
                (void) snprintf(hex + 2 * i, 3, "%02x", want->s6_addr[i]);
        r = read_full_file("/proc/net/if_inet6", 1024 * 1024, &data, NULL);
        if (r == -ENOENT)
                return 0;       /* no IPv6 in this kernel */
        if (r < 0)
                return r;
        /* "fe800000000000000000000000000001 02 40 20 80     eth0" */
        for (const char *line = data; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                char addr[33], name[IFNAMSIZ + 1];

                if (sscanf(line, "%32s %*x %*x %*x %*x %16s", addr, name) == 2 && streq(addr, hex) &&
                    (!ifname || streq(name, ifname)))
                        return 1;
        }
        return 0;
}

int ifaddr_present(const char *ifname, const char *address) {
        struct in_addr a4;
        struct in6_addr a6;

        if (inet_pton(AF_INET, address, &a4) == 1)
                return ipv4_present(ifname, &a4);
        if (inet_pton(AF_INET6, address, &a6) == 1)
                return ipv6_present(ifname, &a6);
        return -EINVAL;
}

int ifaddr_is_local(const char *address) {
        struct in_addr a4;
        struct in6_addr a6;

        /* The loopback range is this machine's whole, though only 127.0.0.1 is on lo. */
        if (inet_pton(AF_INET, address, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127 ? 1 : ipv4_present(NULL, &a4);
        if (inet_pton(AF_INET6, address, &a6) == 1)
                return IN6_IS_ADDR_LOOPBACK(&a6) ? 1 : ipv6_present(NULL, &a6);
        return -EINVAL;
}

int ifaddr_wait(const char *ifname, const char *address, usec_t timeout) {
        usec_t deadline = now_monotonic() + timeout;

        for (;;) {
                int r = ifaddr_present(ifname, address);

                if (r != 0)
                        return r;
                if (now_monotonic() >= deadline)
                        return -ETIMEDOUT;
                sleep_usec(100 * USEC_PER_MSEC);
        }
}
