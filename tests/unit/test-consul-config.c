/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "consul-config.h"
#include "fileio.h"
#include "tap.h"

#define ID "890d4f4c-118d-8eb9-babf-6e3a3d06f992"

int main(void) {
        _cleanup_free_ char *text = NULL, *bare = NULL, *bad = NULL, *path = NULL;
        char dir[] = "/tmp/test-consul-config.XXXXXX";
        const char *key = NULL;
        json_t *o, *acl;
        struct stat st;

        is_int(consul_config_format(&(ConsulConfig) {
                        .datacenter = "dc1", .node_name = "node07", .node_id = ID, .data_dir = "/opt/consul",
                        .bind_addr = "10.0.1.17",
                        .retry_join = (char *[]) { (char *) "10.0.1.10", (char *) "provider=mdns service=consul", NULL },
                        .encrypt = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=",
                        .agent_token = "b1gs33cr3t-agent-token",
               }, &text, NULL), 0, "format");
        o = json_loads(text, 0, NULL);
        ok(json_is_object(o), "JSON");
        ok(json_is_false(json_object_get(o, "server")), "a client");
        is_str(json_string_value(json_object_get(o, "node_id")), ID, "node_id pinned");
        is_str(json_string_value(json_object_get(o, "node_name")), "node07", "node_name");
        is_str(json_string_value(json_object_get(o, "datacenter")), "dc1", "datacenter");
        is_str(json_string_value(json_object_get(o, "bind_addr")), "10.0.1.17", "bind_addr");
        is_int(json_array_size(json_object_get(o, "retry_join")), 2, "retry_join");
        is_str(json_string_value(json_array_get(json_object_get(o, "retry_join"), 1)), "provider=mdns service=consul",
               "a go-discover string kept whole");
        is_str(json_string_value(json_object_get(o, "encrypt")), "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=", "encrypt");
        acl = json_object_get(o, "acl");
        ok(json_is_true(json_object_get(acl, "enabled")), "ACLs enabled with a token");
        is_str(json_string_value(json_object_get(json_object_get(acl, "tokens"), "agent")), "b1gs33cr3t-agent-token",
               "the agent token");
        json_decref(o);

        is_int(consul_config_format(&(ConsulConfig) { .node_name = "node07", .node_id = ID, .data_dir = "/opt/consul",
                                                      .retry_join = (char *[]) { (char *) "10.0.1.10", NULL } },
                                    &bare, NULL), 0, "the least");
        ok(bare && !strstr(bare, "encrypt") && !strstr(bare, "acl") && !strstr(bare, "datacenter") &&
           !strstr(bare, "bind_addr"), "nothing optional");
        is_int(consul_config_format(&(ConsulConfig) { .node_name = "node07", .node_id = "not-a-uuid", .data_dir = "/d",
                                                      .retry_join = (char *[]) { (char *) "10.0.1.10", NULL } },
                                    &bad, &key), -EINVAL, "a node_id that is not a UUID");
        is_str(key, "node_id", "named");
        is_int(consul_config_format(&(ConsulConfig) { .node_name = "node07", .node_id = ID, .data_dir = "/d",
                                                      .retry_join = (char *[]) { NULL } }, &bad, &key),
               -EINVAL, "no retry_join");
        is_str(key, "retry_join", "named");

        /* Control characters in any value: refused, the member named (the file is JSON and
         * would carry them escaped, but Consul and whoever reads its logs should not get them). */
        {
                static const struct {
                        const char *what, *key;
                        ConsulConfig c;
                } bad_values[] = {
                        { "a newline in node_name", "node_name",
                          { .node_name = "node07\n\"server\": true", .node_id = ID, .data_dir = "/d" } },
                        { "an OSC escape in datacenter", "datacenter",
                          { .datacenter = "dc1\x1b]0;owned\x07", .node_name = "n", .node_id = ID, .data_dir = "/d" } },
                        { "a tab in data_dir", "data_dir", { .node_name = "n", .node_id = ID, .data_dir = "/opt/\tconsul" } },
                        { "a C1 control (NEL) in bind_addr", "bind_addr",
                          { .node_name = "n", .node_id = ID, .data_dir = "/d", .bind_addr = "10.0.1.17\xc2\x85" } },
                        { "a carriage return in the gossip key", "encrypt",
                          { .node_name = "n", .node_id = ID, .data_dir = "/d", .encrypt = "pUqJ\rkey" } },
                        { "DEL in the agent token", "acl.tokens.agent",
                          { .node_name = "n", .node_id = ID, .data_dir = "/d", .agent_token = "tok\x7f" } },
                };
                char *const evil_join[] = { (char *) "10.0.1.10", (char *) "10.0.1.11\nretry_join=evil", NULL };
                char *const join[] = { (char *) "10.0.1.10", NULL };

                for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
                        ConsulConfig c = bad_values[i].c;
                        char *t = NULL;

                        c.retry_join = join;
                        key = NULL;
                        is_int(consul_config_format(&c, &t, &key), -EINVAL, "%s: refused", bad_values[i].what);
                        is_str(key, bad_values[i].key, "%s: named", bad_values[i].what);
                        ok(t == NULL, "%s: no text", bad_values[i].what);
                        free(t);
                }
                key = NULL;
                is_int(consul_config_format(&(ConsulConfig) { .node_name = "n", .node_id = ID, .data_dir = "/d",
                                                              .retry_join = evil_join }, &bad, &key),
                       -EINVAL, "a newline in a retry_join address: refused");
                is_str(key, "retry_join", "named");
        }

        if (!mkdtemp(dir))
                abort();
        path = path_join(dir, "consul.d");
        is_int(consul_config_write(path, CONSUL_CONFIG_NAME, text), 1, "written");
        free(path);
        path = path_join(dir, "consul.d/" CONSUL_CONFIG_NAME);
        ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "mode 0600: it holds the gossip key");
        free(path);
        path = path_join(dir, "consul.d");
        is_int(consul_config_write(path, CONSUL_CONFIG_NAME, text), 0, "unchanged");
        (void) !system(({ static char c[128]; snprintf(c, sizeof c, "rm -rf '%s'", dir); c; }));
        return tap_done();
}
