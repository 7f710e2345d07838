/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "k3s-config.h"
#include "tap.h"

/* k3s's config.yaml and node password, written once, 0600. */

int main(void) {
        _cleanup_free_ char *text = NULL, *odd = NULL, *bad = NULL, *path = NULL, *pw = NULL, *back = NULL;
        char dir[] = "/tmp/test-k3s-config.XXXXXX";
        const char *key = NULL;
        struct stat st;

        is_int(k3s_config_format(&(K3sConfig) {
                        .server = "https://10.0.1.10:6443",
                        .token_file = "/etc/first-boot-agent/secrets/k3s-token",
                        .node_name = "node07",
                        .node_ip = "10.0.1.17",
                        .node_labels = (char *[]) { (char *) "rack=r3", (char *) "zone=true", NULL },
                        .node_taints = (char *[]) { (char *) "dedicated=storage:NoSchedule", NULL },
               }, &text, NULL), 0, "format");
        is_str(text,
               "# Written by first-boot-agent from this node's configuration.\n"
               "server: \"https://10.0.1.10:6443\"\n"
               "token-file: \"/etc/first-boot-agent/secrets/k3s-token\"\n"
               "node-name: \"node07\"\n"
               "node-ip: \"10.0.1.17\"\n"
               "node-label:\n"
               "- \"rack=r3\"\n"
               "- \"zone=true\"\n"
               "node-taint:\n"
               "- \"dedicated=storage:NoSchedule\"\n", "the file");
        is_int(k3s_config_format(&(K3sConfig) { .server = "https://h:6443", .token_file = "/t",
                                                .node_name = "n\"1: x #y" }, &odd, NULL), 0,
               "a value with YAML's special characters");
        ok(odd && strstr(odd, "node-name: \"n\\\"1: x #y\"\n") && !strstr(odd, "node-label"),
           "quoted by the emitter, no empty lists");
        is_int(k3s_config_format(&(K3sConfig) { .server = "https://h:6443", .token_file = "/t",
                                                .node_name = "node07\nserver: https://evil" }, &bad, &key), -EINVAL,
               "a newline in a value is refused");
        is_str(key, "node-name", "naming the key");
        {
                /* Every value, whatever its kind: no control character reaches the file. */
                const struct {
                        const char *what, *key;
                        K3sConfig c;
                } bad_values[] = {
                        { "a newline in server", "server",
                          { .server = "https://h:6443\ntoken: stolen", .token_file = "/t", .node_name = "n" } },
                        { "an OSC escape in token-file", "token-file",
                          { .server = "https://h:6443", .token_file = "/t\x1b]0;owned\x07", .node_name = "n" } },
                        { "a carriage return in node-ip", "node-ip",
                          { .server = "https://h:6443", .token_file = "/t", .node_name = "n", .node_ip = "10.0.1.17\r" } },
                        { "DEL in a label", "node-label",
                          { .server = "https://h:6443", .token_file = "/t", .node_name = "n",
                            .node_labels = (char *[]) { (char *) "rack=r3", (char *) "a=b\x7f", NULL } } },
                        { "a C1 control (NEL) in a taint", "node-taint",
                          { .server = "https://h:6443", .token_file = "/t", .node_name = "n",
                            .node_taints = (char *[]) { (char *) "k=v:NoSchedule\xc2\x85", NULL } } },
                };

                for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
                        char *t = NULL;

                        key = NULL;
                        is_int(k3s_config_format(&bad_values[i].c, &t, &key), -EINVAL, "%s: refused", bad_values[i].what);
                        is_str(key, bad_values[i].key, "%s: named", bad_values[i].what);
                        ok(t == NULL, "%s: no text", bad_values[i].what);
                        free(t);
                }
        }
        is_int(k3s_config_format(&(K3sConfig) { .server = "https://h:6443", .node_name = "n" }, &bad, &key), -EINVAL,
               "token-file is required");
        is_str(key, "token-file", "named");
        is_int(k3s_config_format(&(K3sConfig) { .server = "https://h:6443", .token_file = "/t", .node_name = "n",
                                                .node_taints = (char *[]) { (char *) "no-effect", NULL } }, &bad, &key),
               -EINVAL, "a taint without an effect");
        is_str(key, "node-taint", "named");

        if (!mkdtemp(dir))
                abort();
        path = path_join(dir, "etc/rancher/k3s/config.yaml");
        is_int(k3s_config_write(path, text), 1, "written");
        ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "mode 0600");
        is_int(k3s_config_write(path, text), 0, "the same again: unchanged");
        is_int(read_full_file(path, 4096, &back, NULL), 0, "read back");
        is_str(back, text, "as formatted");
        unlink(path);

        free(path);
        path = path_join(dir, "etc/rancher/node/password");
        is_int(k3s_node_password_write(path, "537f67f32c4b2ec9"), 1, "node password written");
        ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "mode 0600");
        is_int(read_full_file(path, 4096, &pw, NULL), 0, "read back");
        is_str(pw, "537f67f32c4b2ec9\n", "with a newline, as k3s writes it");
        is_int(k3s_node_password_write(path, "537f67f32c4b2ec9"), 0, "the same password: unchanged");
        is_int(k3s_node_password_write(path, "other-password"), 1, "another: replaced");
        is_int(k3s_node_password_write(path, "pass\nword"), -EINVAL, "a newline in it is refused");
        unlink(path);
        (void) !system(({ static char c[128]; snprintf(c, sizeof c, "rm -rf '%s'", dir); c; }));
        return tap_done();
}
