/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "consul.h"
#include "http-stub.h"
#include "tap.h"

/* The answers' shapes as Consul's HTTP API gives them (api/status.go, api/catalog.go,
 * api/health.go); the stand-in agent with a shared catalog is tests/server/consul-agent.py. */

static StubRoute routes[] = {
        { "GET", "/v1/status/leader", STUB_STATIC, 200, NULL, "\"\"", 0, 1, 0 },
        { "GET", "/v1/status/leader", STUB_STATIC, 200, NULL, "\"10.0.1.10:8300\"", 0, 0, 0 },
        { "GET", "/v1/catalog/node/node07", STUB_STATIC, 200, NULL,
          "{\"Node\":{\"ID\":\"890d4f4c-118d-8eb9-babf-6e3a3d06f992\",\"Node\":\"node07\",\"Address\":\"10.0.1.17\","
          "\"Datacenter\":\"dc1\",\"TaggedAddresses\":{\"lan\":\"10.0.1.17\"},\"Meta\":{}},\"Services\":{}}", 0, 0, 0 },
        { "GET", "/v1/health/node/node07", STUB_STATIC, 200, NULL,
          "[{\"Node\":\"node07\",\"CheckID\":\"serfHealth\",\"Name\":\"Serf Health Status\",\"Status\":\"critical\","
          "\"Output\":\"Agent not live or unreachable\",\"ServiceID\":\"\"}]", 0, 1, 0 },
        { "GET", "/v1/health/node/node07", STUB_STATIC, 200, NULL,
          "[{\"Node\":\"node07\",\"CheckID\":\"service:web\",\"Status\":\"critical\"},"
          "{\"Node\":\"node07\",\"CheckID\":\"serfHealth\",\"Name\":\"Serf Health Status\",\"Status\":\"passing\","
          "\"Output\":\"Agent alive and reachable\",\"ServiceID\":\"\"}]", 0, 0, 0 },
        { "GET", "/v1/catalog/node/node08", STUB_STATIC, 200, NULL, "null", 0, 0, 0 },
        { "GET", "/v1/catalog/node/node09", STUB_STATIC, 403, NULL, "ACL not found", 0, 0, 0 },
        { "GET", "/v1/catalog/node/node10", STUB_STATIC, 500, NULL, "No cluster leader", 0, 0, 0 },
        { "GET", "/v1/catalog/node/node11", STUB_STATIC, 200, NULL, "{\"Nodes\":[]}", 0, 0, 0 },
};

int main(void) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        _cleanup_free_ char *leader = NULL;
        ConsulNodeStatus s = {};
        char error[256] = "";
        HttpStub stub;

        if (http_stub_start("127.81.1.1", routes, ELEMENTSOF(routes), &stub) < 0) {
                skip("no loopback address 127.81.1.1");
                return tap_done();
        }
        is_int(http_client_new(NULL, 2000, 5000, &c), 0, "client");

        is_int(consul_leader(c, stub.url, NULL, &leader, error, sizeof error), 0, "no leader yet (\"\")");
        ok(leader == NULL, "none returned");
        is_int(consul_leader(c, stub.url, "agent-token-1234", &leader, error, sizeof error), 1, "a leader");
        is_str(leader, "10.0.1.10:8300", "its address");

        is_int(consul_node_get(c, stub.url, NULL, "node07", &s, error, sizeof error), 0, "node07");
        ok(s.registered, "in the catalog");
        is_str(s.node_id, "890d4f4c-118d-8eb9-babf-6e3a3d06f992", "under its node ID");
        is_str(s.address, "10.0.1.17", "its address");
        ok(!s.serf_passing, "serfHealth not passing yet");
        is_str(s.serf_status, "critical", "critical");
        is_str(s.serf_output, "Agent not live or unreachable", "with Serf's output");
        is_int(consul_node_get(c, stub.url, NULL, "node07", &s, error, sizeof error), 0, "node07 again");
        ok(s.serf_passing, "serfHealth passing (the service's check does not count)");

        is_int(consul_node_get(c, stub.url, NULL, "node08", &s, error, sizeof error), 0, "an unknown node (null)");
        ok(!s.registered && !s.serf_passing, "not registered");
        is_int(consul_node_get(c, stub.url, NULL, "node09", &s, error, sizeof error), -EACCES, "403: the token refused");
        ok(strstr(error, "ACL not found") && strstr(error, "403"), "Consul's text: %s", error);
        is_int(consul_node_get(c, stub.url, NULL, "node10", &s, error, sizeof error), -EREMOTEIO, "500: no leader");
        ok(strstr(error, "No cluster leader") != NULL, "said: %s", error);
        is_int(consul_node_get(c, stub.url, NULL, "node11", &s, error, sizeof error), -EPROTO, "another shape");
        is_int(consul_node_get(c, stub.url, NULL, "", &s, error, sizeof error), -EINVAL, "no name");

        {
                _cleanup_free_ char *log = http_stub_log(&stub);

                ok(log && !strstr(log, "/v1/health/node/node08"), "no health asked for a node not in the catalog");
        }
        {
                _cleanup_free_ char *cmd = NULL;

                is_int(consul_stale_command("node07", &cmd), 0, "the operator's command");
                is_str(cmd, "consul force-leave -prune node07", "frees the name");
                is_int(consul_stale_command("$(reboot)", &cmd), -EINVAL, "not for a name a shell would read as more");
        }
        http_stub_stop(&stub);
        return tap_done();
}
