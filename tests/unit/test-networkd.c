/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "networkd.h"
#include "tap.h"

/* The .network file a static address becomes, written once. */

int main(void) {
        _cleanup_free_ char *text = NULL, *bare = NULL, *path = NULL, *back = NULL;
        char dir[] = "/tmp/test-networkd.XXXXXX";

        is_int(networkd_format(&(NetworkdStatic) { .mac = "52:54:00:12:34:56", .address = "10.0.1.13/24",
                                                   .gateway = "10.0.1.1",
                                                   .dns = (char *[]) { (char *) "10.0.1.1", (char *) "fd00::53", NULL } },
                               &text, NULL), 0, "format");
        is_str(text, "# Written by first-boot-agent from this node's configuration (network.static).\n"
                     "[Match]\nMACAddress=52:54:00:12:34:56\n\n[Network]\nAddress=10.0.1.13/24\n"
                     "Gateway=10.0.1.1\nDNS=10.0.1.1\nDNS=fd00::53\n", "the file");
        is_int(networkd_format(&(NetworkdStatic) { .mac = "52:54:00:12:34:56", .address = "fd00::13/64" }, &bare, NULL), 0,
               "format without gateway and DNS");
        ok(bare && !strstr(bare, "Gateway=") && !strstr(bare, "DNS="), "no Gateway= nor DNS=");
        is_int(networkd_format(&(NetworkdStatic) { .address = "10.0.1.13/24" }, &back, NULL), -EINVAL, "a MAC is needed");

        /* Values the parser would read as more than one setting are refused, naming the key. */
        {
                const struct {
                        NetworkdStatic s;
                        const char *key, *what;
                } bad[] = {
                        { { .mac = "52:54:00:12:34:56", .address = "10.0.1.13/24\n[Network]\nDHCP=yes" },
                          "Address", "a newline (a section of its own)" },
                        { { .mac = "52:54:00:12:34:56", .address = "10.0.1.13/24", .gateway = "10.0.1.1\\" },
                          "Gateway", "a trailing backslash (the next line joined)" },
                        { { .mac = "52:54:00:12:34:56", .address = "10.0.1.13/24",
                            .dns = (char *[]) { (char *) "10.0.1.1", (char *) "10.0.1.2\rDNS=6.6.6.6", NULL } },
                          "DNS", "a carriage return in the second DNS" },
                        { { .mac = "52:54:00:12:34:56\x1b[2J", .address = "10.0.1.13/24" }, "MACAddress", "an escape" },
                        { { .mac = "52:54:00:12:34:56", .address = " 10.0.1.13/24" }, "Address", "a leading blank" },
                        { { .mac = "52:54:00:12:34:56", .address = "" }, "Address", "an empty value" },
                };

                for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                        char *t = NULL;
                        const char *key = NULL;

                        is_int(networkd_format(&bad[i].s, &t, &key), -EINVAL, "refused: %s", bad[i].what);
                        is_str(key, bad[i].key, "the key is named: %s", bad[i].key);
                        ok(t == NULL, "nothing returned");
                }
        }

        if (!mkdtemp(dir)) {
                ok(false, "temporary directory");
                return tap_done();
        }
        path = path_join(dir, "sub/10-x.network");
        {
                _cleanup_free_ char *sub = path_join(dir, "sub");

                is_int(networkd_write(sub, "10-x.network", text), 1, "written (the directory made)");
                is_int(networkd_write(sub, "10-x.network", text), 0, "the same text again: unchanged");
                is_int(networkd_write(sub, "10-x.network", bare), 1, "another text: changed");
                is_int(read_full_file(path, 4096, &back, NULL), 0, "read back");
                is_str(back, bare, "the last text");
                unlink(path);
                rmdir(sub);
        }
        rmdir(dir);
        return tap_done();
}
