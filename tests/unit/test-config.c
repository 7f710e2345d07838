/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-flash.h"
#include "config-load.h"
#include "config.h"
#include "service-kind.h"
#include "strv.h"
#include "tap.h"

/* A joining control-plane node with TLS: the smallest complete configuration. */
#define JOIN_BASE                                                               \
        "\"node_id\": \"node04\", \"node_role\": \"control-plane\", "           \
        "\"bootstrap\": false, \"cluster_name\": \"prod\", "                    \
        "\"leader_url\": \"https://10.0.1.10:2379\", "                          \
        "\"raft_addr\": \"10.0.1.13:2380\""
#define JOIN_FIELDS JOIN_BASE ", \"tls\": { \"enabled\": true }"

#define BOOTSTRAP_FIELDS                                                        \
        "\"node_id\": \"node01\", \"node_role\": \"control-plane\", "           \
        "\"bootstrap\": true, \"cluster_name\": \"prod\", "                     \
        "\"raft_addr\": \"10.0.1.10:2380\", "                                   \
        "\"initial_peers\": [\"node01:2380\", \"node02:2380\", \"node03:2380\"]"

static char *tmpdir;

static int parse(const char *text, Config **ret, ProblemList *l) {
        return config_parse(text, strlen(text), "test.json", ret, l);
}

/* All problems of a parse, one formatted line each, joined by "\n". */
static char *problem_lines(const ProblemList *l) {
        char *all = NULL;
        size_t size;
        FILE *f = open_memstream(&all, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *s = problem_format(&l->items[i]);

                fprintf(f, "%s%s", i > 0 ? "\n" : "", s ? s : "(oom)");
        }
        fclose(f);
        return all;
}

/* Parses text (which must fail) and compares the problem lines. */
static void check_problems(const char *text, const char *expected, const char *what) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *lines = NULL;
        ProblemList l = {};
        int r;

        r = parse(text, &c, &l);
        lines = problem_lines(&l);
        is_int(r, -EINVAL, "%s: refused", what);
        ok(!c, "%s: no config", what);
        is_str(lines, expected, "%s: problems", what);
        problem_list_done(&l);
}

/* A configuration that must be accepted. */
static Config *parse_ok(const char *text, const char *what) {
        _cleanup_free_ char *lines = NULL;
        ProblemList l = {};
        Config *c = NULL;
        int r;

        r = parse(text, &c, &l);
        lines = problem_lines(&l);
        is_int(r, 0, "%s: accepted", what);
        is_str(lines, "", "%s: no problems", what);
        problem_list_done(&l);
        return c;
}

static void test_join_defaults(void) {
        _cleanup_(config_freep) Config *c = parse_ok(
                "{" JOIN_FIELDS ", \"initial_peers\": [\"node01:2380\", \"node02:2380\", "
                "\"10.0.1.10:2380\", \"node04:2380\", \"node03:2380\", \"node02:2380\"]}",
                "join");
        const ServiceConfig *cf, *fd, *iam;

        if (!c)
                return;
        cf = config_service(c, "chainfire");
        fd = config_service(c, "flaredb");
        iam = config_service(c, "iam");

        is_str(c->path, "test.json", "source kept");
        is_str(c->node_id, "node04", "node_id");
        is_int(c->node_role, NODE_ROLE_CONTROL_PLANE, "role");
        ok(!c->bootstrap, "join");
        is_str(c->cluster_name, "prod", "cluster_name");

        ok(cf->enabled && fd->enabled && iam->enabled, "every service enabled by default");
        is_int(cf->api_port, 2379, "chainfire api port");
        is_int(cf->raft_port, 2380, "chainfire raft port");
        is_int(fd->api_port, 2479, "flaredb api port");
        is_int(fd->raft_port, 2480, "flaredb raft port");
        is_int(iam->api_port, 8080, "iam api port");
        is_int(iam->raft_port, 0, "iam has no raft port");

        /* Over TLS the local services are checked under the node's own name: here its address. */
        is_str(cf->health_url, "https://10.0.1.13:2379/health", "chainfire health url: the node's own address");
        is_str(fd->health_url, "https://10.0.1.13:2479/health", "flaredb health url");
        is_str(iam->health_url, "https://10.0.1.13:8080/health", "iam health url");
        ok(!cf->health_connect, "connected to by that address: no detour");
        is_str(cf->leader_url, "https://10.0.1.10:2379", "chainfire leader");
        is_str(fd->leader_url, "https://10.0.1.10:2479", "flaredb leader: leader host, own port");
        ok(!iam->leader_url, "iam has no leader");
        is_str(cf->raft_addr, "10.0.1.13:2380", "chainfire raft addr");
        is_str(fd->raft_addr, "10.0.1.13:2480", "flaredb raft addr: raft host, own port");
        is_int(cf->kind, SERVICE_KIND_ADMIN, "admin driver by default");

        /* Without the leader (10.0.1.10), this node (node04) and the repeated node02. */
        is_int(strv_length(cf->peer_urls), 3, "three chainfire peers");
        is_str(cf->peer_urls[0], "https://node01:2379", "peer 1");
        is_str(cf->peer_urls[1], "https://node02:2379", "peer 2");
        is_str(cf->peer_urls[2], "https://node03:2379", "peer 3");
        /* No flaredb_peers: the hosts of initial_peers with flaredb's port. */
        is_int(strv_length(fd->peer_urls), 3, "three flaredb peers");
        is_str(fd->peer_urls[0], "https://node01:2479", "flaredb peer 1");

        ok(c->tls.enabled, "tls");
        ok(!c->tls.insecure_skip_verify, "verification on by default");
        is_int(c->timeouts.health_wait, 120 * USEC_PER_SEC, "health wait");
        is_int(c->timeouts.request, 10 * USEC_PER_SEC, "request timeout");
        is_int(c->timeouts.connect, 3 * USEC_PER_SEC, "connect timeout");
        is_int(c->timeouts.join_attempts, 5, "join attempts");
        is_int(c->timeouts.backoff_initial, 200 * USEC_PER_MSEC, "backoff initial");
        is_int(c->timeouts.backoff_max, 10 * USEC_PER_SEC, "backoff max");
        is_int(c->timeouts.join_start_delay_max, JOIN_START_DELAY_MAX_MS_DEFAULT * USEC_PER_MSEC, "join start delay");
        is_int(c->timeouts.join_lock_ttl, 60 * USEC_PER_SEC, "join lock TTL");
        is_int(c->report.progress_interval, 10 * USEC_PER_SEC, "progress reports every 10 s at most");

        is_str(c->iam.url, "https://10.0.1.13:8080", "iam url");
        is_str(c->iam.admin_user, "admin", "iam admin user looked up without a secrets file");
        is_str(c->iam.secrets_file, "/etc/nixos/secrets/iam-admin.json", "iam secrets file");
        is_str(c->iam.token_file, "/var/lib/first-boot-automation/iam-admin.token", "iam token file");
        is_str(c->iam.user_path, "/admin/users/{user}", "iam user path");
        is_str(c->iam.create_path, "/admin/users", "iam create path");
        is_str(c->iam.token_path, "/admin/tokens", "iam token path");
        is_int(strv_length(c->iam.roles), 1, "one role");
        is_str(c->iam.roles[0], "admin", "admin role");

        ok(c->health_check, "health check on by default");
        ok(!c->report.url, "no report url");
        is_int(c->report.timeout, 5 * USEC_PER_SEC, "report timeout");
        is_str(c->state_dir, CONFIG_STATE_DIR_DEFAULT, "state dir");
        is_int(c->n_network, 0, "no networks");
        ok(!c->flash, "no flash section");
        ok(!c->node_ip && !c->node_fqdn && !c->datacenter && !c->rack, "optional fields absent");
}

static void test_bootstrap(void) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(config_freep) Config *aio = NULL;

        c = parse_ok("{" BOOTSTRAP_FIELDS ", \"flaredb_peers\": [\"node01:2480\", \"node02:2480\", "
                     "\"node05:2480\"]}", "bootstrap");
        if (!c)
                return;
        ok(c->bootstrap, "bootstrap");
        ok(!c->leader_url, "no leader_url needed");
        ok(!config_service(c, "chainfire")->leader_url, "no chainfire leader");
        is_str(config_service(c, "chainfire")->health_url, "http://localhost:2379/health",
               "http without tls");
        is_int(strv_length(config_service(c, "chainfire")->peer_urls), 2, "self excluded by node_id");
        is_str(config_service(c, "chainfire")->peer_urls[0], "http://node02:2379", "peer");
        is_int(strv_length(config_service(c, "flaredb")->peer_urls), 2, "flaredb peers from flaredb_peers");
        is_str(config_service(c, "flaredb")->peer_urls[1], "http://node05:2479", "flaredb peer list");
        is_str(c->iam.url, "http://localhost:8080", "iam url over http");

        aio = parse_ok("{\"node_id\": \"aio01\", \"node_role\": \"all-in-one\", \"bootstrap\": true, "
                       "\"cluster_name\": \"lab\", \"raft_addr\": \"10.0.2.10:2380\", "
                       "\"initial_peers\": [\"aio01:2380\"], \"flaredb_peers\": [\"aio01:2480\"]}",
                       "all-in-one");
        if (!aio)
                return;
        is_int(aio->node_role, NODE_ROLE_ALL_IN_ONE, "all-in-one role");
        is_int(strv_length(config_service(aio, "chainfire")->peer_urls), 0, "no other peer");
        ok(config_service(aio, "chainfire")->peer_urls, "empty list, not NULL");
}

static void test_overrides(void) {
        _cleanup_(config_freep) Config *c = parse_ok(
                "{\"node_id\": \"node04\", \"node_role\": \"worker\", \"bootstrap\": false, "
                "\"cluster_name\": \"prod\", \"leader_url\": \"http://node01.prod.example.com:2379\", "
                "\"raft_addr\": \"10.0.1.13:2390\", \"node_ip\": \"10.0.1.13\", "
                "\"node_fqdn\": \"node04.prod.example.com\", \"datacenter\": \"dc1\", \"rack\": \"r1\", "
                "\"initial_peers\": [\"node01:2390\", \"NODE02:2390\", \"10.0.1.13:2390\", "
                "\"node04.prod.example.com:2390\", \"node05.other.example.com:2390\"], "
                "\"services\": { "
                "  \"chainfire\": { \"api_port\": 3379, \"driver\": \"etcd\" }, "
                "  \"flaredb\": { \"leader_url\": \"https://db-leader:9000/base/\", \"replace_stale_member\": true, "
                "                 \"health_url\": \"http://127.0.0.1:2479/healthz\", "
                "                 \"raft_addr\": \"192.168.0.4:2481\", \"raft_port\": 2482 }, "
                "  \"iam\": { \"enabled\": false, \"url\": \"http://iam.example.com/api/\" } }, "
                "\"network\": { \"cluster_cidr\": \"10.0.0.0/16\", \"service_cidr\": \"fd00::/64\" }, "
                "\"timeouts\": { \"health_wait_s\": 300, \"request_s\": 20, \"connect_s\": 20, "
                "  \"join_attempts\": 9, \"backoff_initial_ms\": 50, \"backoff_max_ms\": 50, "
                "  \"join_start_delay_max_ms\": 0, \"join_lock_ttl_s\": 5 }, "
                "\"iam\": { \"token_file\": \"/run/token\", \"roles\": [\"admin\", \"ops\"] }, "
                "\"health_check\": { \"enabled\": false }, "
                "\"report\": { \"url\": \"http://10.0.0.1:8000/report\", \"timeout_s\": 7, \"progress_interval_s\": 0 }, "
                "\"state_dir\": \"/var/lib/fba-test\" }", "overrides");
        const ServiceConfig *cf, *fd;

        if (!c)
                return;
        cf = config_service(c, "chainfire");
        fd = config_service(c, "flaredb");

        is_int(c->node_role, NODE_ROLE_WORKER, "worker");
        is_str(c->node_ip, "10.0.1.13", "node_ip");
        is_str(c->datacenter, "dc1", "datacenter");
        is_str(c->rack, "r1", "rack");
        is_int(cf->raft_port, 2390, "chainfire raft port from raft_addr");
        is_str(cf->raft_addr, "10.0.1.13:2390", "chainfire raft addr");
        is_str(cf->leader_url, "http://node01.prod.example.com:3379", "leader with the api_port override");
        is_str(cf->health_url, "http://localhost:3379/health", "health with the api_port override");
        is_int(cf->kind, SERVICE_KIND_ETCD, "etcd driver");
        /* node01 is the leader by its short name; 10.0.1.13 and node04's FQDN are this node. */
        is_int(strv_length(cf->peer_urls), 2, "leader and self excluded");
        is_str(cf->peer_urls[0], "http://NODE02:3379", "peer keeps its spelling");
        is_str(cf->peer_urls[1], "http://node05.other.example.com:3379", "other domain kept");

        is_str(fd->leader_url, "https://db-leader:9000/base", "explicit leader, trailing / removed");
        is_str(fd->health_url, "http://127.0.0.1:2479/healthz", "explicit health url");
        is_str(fd->raft_addr, "192.168.0.4:2481", "explicit raft addr");
        is_int(fd->raft_port, 2482, "explicit raft port");
        /* The flaredb leader is db-leader: node01 is a peer of it again. */
        is_int(strv_length(fd->peer_urls), 3, "flaredb peers");
        is_str(fd->peer_urls[0], "http://node01:2479", "flaredb peer");

        ok(!config_service(c, "iam")->enabled, "iam disabled");
        is_str(c->iam.url, "http://iam.example.com/api", "iam url without trailing /");
        is_str(c->iam.token_file, "/run/token", "token file");
        is_int(strv_length(c->iam.roles), 2, "two roles");

        is_int(c->n_network, 2, "two networks");
        is_str(c->network[0].name, "cluster_cidr", "network name");
        is_str(c->network[1].cidr, "fd00::/64", "network cidr");
        is_int(c->timeouts.health_wait, 300 * USEC_PER_SEC, "health wait");
        is_int(c->timeouts.connect, 20 * USEC_PER_SEC, "connect may equal request");
        is_int(c->timeouts.join_attempts, 9, "attempts");
        is_int(c->timeouts.backoff_max, 50 * USEC_PER_MSEC, "backoff max");
        is_int(c->timeouts.join_start_delay_max, 0, "no start delay");
        is_int(c->timeouts.join_lock_ttl, 5 * USEC_PER_SEC, "lock TTL");
        ok(!cf->replace_stale_member, "stale members refused by default");
        ok(fd->replace_stale_member, "replace_stale_member");
        is_int(c->report.progress_interval, 0, "no progress reports");
        ok(!c->health_check, "health check off");
        is_str(c->report.url, "http://10.0.0.1:8000/report", "report url");
        is_int(c->report.timeout, 7 * USEC_PER_SEC, "report timeout");
        is_str(c->state_dir, "/var/lib/fba-test", "state dir");
}

static void test_ipv6(void) {
        _cleanup_(config_freep) Config *c = parse_ok(
                "{\"node_id\": \"n6\", \"node_role\": \"worker\", \"bootstrap\": false, "
                "\"cluster_name\": \"v6\", \"leader_url\": \"http://[fd00::10]:2379\", "
                "\"raft_addr\": \"[fd00::13]:2380\", "
                "\"initial_peers\": [\"[fd00::10]:2380\", \"[fd00::11]:2380\", \"[fd00::13]:2380\"]}",
                "ipv6");

        if (!c)
                return;
        is_str(config_service(c, "flaredb")->leader_url, "http://[fd00::10]:2479", "v6 leader");
        is_str(config_service(c, "flaredb")->raft_addr, "[fd00::13]:2480", "v6 raft addr");
        is_int(strv_length(config_service(c, "chainfire")->peer_urls), 1, "v6 leader and self excluded");
        is_str(config_service(c, "chainfire")->peer_urls[0], "http://[fd00::11]:2379", "v6 peer");
}

static void test_leader_overrides_only(void) {
        _cleanup_(config_freep) Config *c = parse_ok(
                "{\"node_id\": \"n1\", \"node_role\": \"worker\", \"bootstrap\": false, "
                "\"cluster_name\": \"c\", \"raft_addr\": \"10.0.0.1:2380\", \"services\": {"
                "\"chainfire\": {\"leader_url\": \"http://a:1\"}, \"flaredb\": {\"enabled\": false}}}",
                "each enabled cluster service names its leader");

        ok(c && !c->leader_url, "top-level leader_url not needed");
}

static void test_flash_section(void) {
        _cleanup_(config_freep) Config *c = parse_ok(
                "{" JOIN_FIELDS ", \"flash\": {\"images\": [{\"url\": \"http://10.0.0.1/gold.img\", "
                "\"sha256\": \"" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" "\", "
                "\"target\": {\"type\": \"nvme\", \"serial\": \"S4EW*\"}}]}}", "flash section");

        ok(c && c->flash && c->flash->n_images == 1, "flash section parsed");
        check_problems("{" JOIN_FIELDS ", \"flash\": []}",
                       ".flash: expected an object, found an empty array",
                       "flash problems join the list");
}

static void test_syntax(void) {
        check_problems("{\n  \"node_id\": \"a\",\n  \"x\": }\n",
                       "line 3, column 8: expected valid JSON, found a syntax error: unexpected token near '}'",
                       "syntax error");
        check_problems("{\"node_id\": \"a\", \"node_id\": \"b\"}",
                       "line 1, column 26: expected valid JSON, found a syntax error: duplicate object key near '\"node_id\"'",
                       "duplicate key");
        check_problems("", "line 1, column 1: expected valid JSON, found a syntax error: '[' or '{' expected near end of file",
                       "empty file");
        check_problems("[1]", ".: expected an object, found an array of 1 element", "not an object");
        check_problems("{\"a\": \"b\" x}",
                       "line 1, column 11: expected valid JSON, found a syntax error: '}' expected near 'x'",
                       "x after the value");
        check_problems("{\"a\": \"\x1b[2J\"}",
                       "line 1, column 7: expected valid JSON, found a syntax error: control character 0x1b near '\"'",
                       "raw control character");
}

static void test_required(void) {
        check_problems("{}",
                       ".node_id: expected a name of 1 to 63 characters from A-Z, a-z, 0-9, '.', '_' and '-', found nothing\n"
                       ".bootstrap: expected true or false, found nothing\n"
                       ".raft_addr: expected an address HOST:PORT with a port between 1 and 65535, found nothing",
                       "every required field");
        check_problems("{\"node_id\": \"node04\", \"node_role\": \"control-plane\", \"bootstrap\": false, "
                       "\"cluster_name\": \"prod\", \"raft_addr\": \"10.0.1.13:2380\"}",
                       ".leader_url: expected an http:// or https:// URL with a host (required when bootstrap is false), found nothing",
                       "leader_url when joining");
        config_free(parse_ok("{\"node_id\": \"w2\", \"node_role\": \"worker\", \"bootstrap\": false, "
                             "\"raft_addr\": \"10.0.1.22:2380\"}", "a worker joins no raft group: no leader_url needed"));
        check_problems("{\"node_id\": \"node04\", \"node_role\": \"worker\", \"bootstrap\": true, "
                       "\"cluster_name\": \"prod\", \"raft_addr\": \"10.0.1.13:2380\"}",
                       ".initial_peers: expected a non-empty array of addresses HOST:PORT (required when bootstrap is true), found nothing",
                       "initial_peers when bootstrapping");
        check_problems("{\"node_id\": \"node04\", \"node_role\": \"worker\", \"bootstrap\": true, "
                       "\"cluster_name\": \"prod\", \"raft_addr\": \"10.0.1.13:2380\", \"initial_peers\": []}",
                       ".initial_peers: expected a non-empty array of addresses HOST:PORT (required when bootstrap is true), found an empty array",
                       "empty initial_peers when bootstrapping");
        check_problems("{\"node_id\": \"\", \"node_role\": \"worker\", \"bootstrap\": null, "
                       "\"cluster_name\": \"\", \"raft_addr\": \"10.0.1.13:2380\"}",
                       ".node_id: expected a name of 1 to 63 characters from A-Z, a-z, 0-9, '.', '_' and '-', found the string \"\"\n"
                       ".bootstrap: expected true or false, found null\n"
                       ".cluster_name: expected a non-empty single-line string, found the string \"\"",
                       "empty values; no conditional checks without a valid bootstrap");
}

static void test_types_and_values(void) {
        check_problems("{" JOIN_FIELDS ", \"node_ip\": \"10.0.1\", \"node_fqdn\": \"node 4\", "
                       "\"datacenter\": [\"dc1\"], \"rack\": 7, \"state_dir\": \"var/lib\", "
                       "\"flaredb_peers\": \"node01:2480\", \"initial_peers\": [\"node01\", 2380, "
                       "\"fd00::1:2380\", \"node02:0\", \"node03:2380\"]}",
                       ".initial_peers[0]: expected an address HOST:PORT with a port between 1 and 65535, found the string \"node01\"; the port is missing\n"
                       ".initial_peers[1]: expected an address HOST:PORT with a port between 1 and 65535, found the number 2380\n"
                       ".initial_peers[2]: expected an address HOST:PORT with a port between 1 and 65535, found the string \"fd00::1:2380\"; write an IPv6 address in brackets: [ADDRESS]:PORT\n"
                       ".initial_peers[3]: expected an address HOST:PORT with a port between 1 and 65535, found the string \"node02:0\"; the port must be between 1 and 65535\n"
                       ".flaredb_peers: expected an array of strings, each an address HOST:PORT with a port between 1 and 65535, found the string \"node01:2480\"\n"
                       ".node_ip: expected an IPv4 or IPv6 address, found the string \"10.0.1\"\n"
                       ".node_fqdn: expected a DNS name such as \"node04.example.com\", found the string \"node 4\"\n"
                       ".datacenter: expected a non-empty single-line string, found an array of 1 element\n"
                       ".rack: expected a non-empty single-line string, found the number 7; write it in quotes: \"7\"\n"
                       ".state_dir: expected an absolute path, found the string \"var/lib\"; write the full path, starting with /",
                       "addresses, names and paths");
        check_problems("{\"node_id\": \"node_04.a-b\", \"node_role\": \"Worker\", \"bootstrap\": \"false\", "
                       "\"cluster_name\": \"prod\", \"raft_addr\": \"10.0.1.13:2380\"}",
                       ".node_role: expected one of \"control-plane\", \"worker\", \"all-in-one\", found the string \"Worker\"; did you mean \"worker\"?\n"
                       ".bootstrap: expected true or false, found the string \"false\"; write false without quotes",
                       "enum and boolean");
        check_problems("{\"node_id\": \"node/4\", \"node_role\": \"master\", \"bootstrap\": 0, "
                       "\"cluster_name\": \"line\\nbreak\", \"raft_addr\": \"10.0.1.13:2380\"}",
                       ".node_id: expected a name of 1 to 63 characters from A-Z, a-z, 0-9, '.', '_' and '-', found the string \"node/4\"\n"
                       ".node_role: expected one of \"control-plane\", \"worker\", \"all-in-one\", found the string \"master\"\n"
                       ".bootstrap: expected true or false, found the number 0\n"
                       ".cluster_name: expected a non-empty single-line string, found the string \"line\\nbreak\"; control characters (C0, DEL, C1; shown escaped) are not allowed here: remove them",
                       "charset, enum without a near name, control characters");
        check_problems("{\"node_id\": \"a123456789a123456789a123456789a123456789a123456789a123456789abcd\", "
                       "\"node_role\": \"worker\", \"bootstrap\": true, \"cluster_name\": \"c\", "
                       "\"raft_addr\": \"x:1\", \"initial_peers\": [\"x:1\"]}",
                       ".node_id: expected a name of 1 to 63 characters from A-Z, a-z, 0-9, '.', '_' and '-', found the string \"a123456789a123456789a123456789a123456789a123456789a123456789abcd\"",
                       "node_id of 64 characters");
}

static void test_urls(void) {
        check_problems("{\"node_id\": \"n\", \"node_role\": \"worker\", \"bootstrap\": false, "
                       "\"cluster_name\": \"c\", \"raft_addr\": \"10.0.0.1:2380\", "
                       "\"leader_url\": \"ftp://10.0.1.10:2379\", \"services\": {"
                       "\"chainfire\": {\"health_url\": \"https://\", \"leader_url\": \"http://a b:1\"}, "
                       "\"flaredb\": {\"health_url\": \"http://localhost:99999/health\", "
                       "\"leader_url\": \"https://admin:hunter2@10.0.1.10:2479\"}, "
                       "\"iam\": {\"url\": \"localhost:8080\", \"health_url\": \"http://[fd00::1/health\"}}}",
                       ".leader_url: expected an http:// or https:// URL with a host, found the string \"ftp://10.0.1.10:2379\"; the scheme must be http:// or https://\n"
                       ".services.chainfire.health_url: expected an http:// or https:// URL with a host, found the string \"https://\"; the host is missing\n"
                       ".services.chainfire.leader_url: expected an http:// or https:// URL with a host, found the string \"http://a b:1\"; a URL cannot contain spaces or control characters\n"
                       ".services.flaredb.health_url: expected an http:// or https:// URL with a host, found the string \"http://localhost:99999/health\"; the port must be between 1 and 65535\n"
                       ".services.flaredb.leader_url: expected an http:// or https:// URL with a host, found a value that is not shown here; remove the user name and password from the URL\n"
                       ".services.iam.health_url: expected an http:// or https:// URL with a host, found the string \"http://[fd00::1/health\"\n"
                       ".services.iam.url: expected an http:// or https:// URL with a host, found the string \"localhost:8080\"; start it with http:// or https://",
                       "URLs");
        check_problems("{" JOIN_BASE ", \"tls\": {\"enabled\": false}}",
                       ".leader_url: expected an http:// URL, since tls.enabled is false, found the string \"https://10.0.1.10:2379\"; leave tls.enabled out (an https:// leader turns TLS on), or write http://",
                       "https leader with tls turned off");
        check_problems("{\"node_id\": \"n\", \"node_role\": \"worker\", \"bootstrap\": false, "
                       "\"cluster_name\": \"c\", \"raft_addr\": \"10.0.0.1:2380\", "
                       "\"leader_url\": \"http://10.0.1.10:2379\", \"tls\": {\"enabled\": true}}",
                       ".leader_url: expected an https:// URL, since tls.enabled is true, found the string \"http://10.0.1.10:2379\"; write https:// or leave tls.enabled out",
                       "http leader with tls");
}

static void test_unknown_keys(void) {
        check_problems("{" JOIN_FIELDS ", \"bootstap\": true, \"leader-url\": 1, \"comment\": \"x\", "
                       "\"services\": {\"chainfire\": {\"api_prot\": 1}, \"flareDB\": {}, \"iam\": {\"raft_port\": 1}}, "
                       "\"timeouts\": {\"health_wait\": 1}, \"iam\": {\"role\": []}, "
                       "\"health_check\": {\"enable\": true}, \"report\": {\"uri\": \"x\"}, "
                       "\"network\": {\"any name\": \"10.0.0.0/8\"}}",
                       ".bootstap: expected a known key, found the unknown key \"bootstap\"; did you mean \"bootstrap\"?\n"
                       ".leader-url: expected a known key, found the unknown key \"leader-url\"; did you mean \"leader_url\"?\n"
                       ".comment: expected a known key, found the unknown key \"comment\"; known keys: node_id, node_role, bootstrap, cluster_name, leader_url, raft_addr, initial_peers, flaredb_peers, node_ip, node_fqdn, datacenter, rack, services, tls, network, timeouts, iam, health_check, report, metrics, state_dir, flash, provisioning\n"
                       ".services.chainfire.api_prot: expected a known key, found the unknown key \"api_prot\"; did you mean \"api_port\"?\n"
                       ".services.flareDB: expected a service name of 1 to 32 characters from a-z, 0-9 and '-', starting with a letter (it names steps, markers and metrics), found the name \"flareDB\"; did you mean \"flaredb\"?\n"
                       ".services.iam.raft_port: expected a known key, found the unknown key \"raft_port\"; did you mean \"api_port\"?\n"
                       ".timeouts.health_wait: expected a known key, found the unknown key \"health_wait\"; did you mean \"health_wait_s\"?\n"
                       ".iam.role: expected a known key, found the unknown key \"role\"; did you mean \"roles\"?\n"
                       ".health_check.enable: expected a known key, found the unknown key \"enable\"; did you mean \"enabled\"?\n"
                       ".report.uri: expected a known key, found the unknown key \"uri\"; did you mean \"url\"?",
                       "unknown keys at every level");
        check_problems("{" JOIN_BASE ", \"tls\": {\"enabled\": true, \"ca_cert\": \"/x\"}}",
                       ".tls.ca_cert: expected a known key, found the unknown key \"ca_cert\"; known keys: enabled, ca_cert_path, node_cert_path, node_key_path, insecure_skip_verify, secrets_dir",
                       "unknown tls key");
}

static void test_tls(void) {
        check_problems("{" JOIN_BASE ", \"tls\": {\"enabled\": true, \"node_cert_path\": \"/etc/n.crt\", "
                       "\"insecure_skip_verify\": \"yes\"}}",
                       ".tls.insecure_skip_verify: expected true or false, found the string \"yes\"\n"
                       ".tls.node_key_path: expected an absolute path (node_cert_path is set: the client certificate needs its key), found nothing",
                       "cert without key, insecure_skip_verify not a boolean");
        check_problems("{" JOIN_BASE ", \"tls\": {\"enabled\": true, \"node_key_path\": \"/etc/n.key\", "
                       "\"ca_cert_path\": \"ca.crt\"}}",
                       ".tls.ca_cert_path: expected an absolute path, found the string \"ca.crt\"; write the full path, starting with /\n"
                       ".tls.node_cert_path: expected an absolute path (node_key_path is set: the key needs its client certificate), found nothing",
                       "key without cert");

        _cleanup_(config_freep) Config *c = parse_ok(
                "{" JOIN_BASE ", \"tls\": {\"enabled\": true, \"ca_cert_path\": \"/etc/ca.crt\", "
                "\"node_cert_path\": \"/etc/n.crt\", \"node_key_path\": \"/etc/n.key\", "
                "\"insecure_skip_verify\": true}}", "full tls");
        ok(c && c->tls.insecure_skip_verify && streq(c->tls.node_key_path, "/etc/n.key"), "tls values");
}

static void test_ranges(void) {
        check_problems("{" JOIN_FIELDS ", \"services\": {\"chainfire\": {\"api_port\": 70000, "
                       "\"raft_port\": 0, \"enabled\": \"yes\"}, \"flaredb\": {\"api_port\": 2379.0}}, "
                       "\"timeouts\": {\"health_wait_s\": 0, \"request_s\": 601, \"connect_s\": -1, "
                       "\"join_attempts\": 1001, \"backoff_initial_ms\": \"200\", \"backoff_max_ms\": 3600001, "
                       "\"join_start_delay_max_ms\": -1, \"join_lock_ttl_s\": 2}, "
                       "\"report\": {\"timeout_s\": 301, \"progress_interval_s\": 3601}}",
                       ".services.chainfire.enabled: expected true or false, found the string \"yes\"\n"
                       ".services.chainfire.api_port: expected an integer between 1 and 65535, found the number 70000\n"
                       ".services.chainfire.raft_port: expected an integer between 1 and 65535, found the number 0\n"
                       ".services.flaredb.api_port: expected an integer between 1 and 65535, found the number 2379.0; write it without a fractional part\n"
                       ".timeouts.health_wait_s: expected an integer between 1 and 3600 (seconds), found the number 0\n"
                       ".timeouts.request_s: expected an integer between 1 and 600 (seconds), found the number 601\n"
                       ".timeouts.connect_s: expected an integer between 1 and 300 (seconds), found the number -1\n"
                       ".timeouts.join_attempts: expected an integer between 1 and 1000, found the number 1001\n"
                       ".timeouts.backoff_initial_ms: expected an integer between 1 and 600000 (milliseconds), found the string \"200\"; write 200 without quotes\n"
                       ".timeouts.backoff_max_ms: expected an integer between 1 and 3600000 (milliseconds), found the number 3600001\n"
                       ".timeouts.join_start_delay_max_ms: expected an integer between 0 and 600000 (milliseconds), found the number -1\n"
                       ".timeouts.join_lock_ttl_s: expected 0 (no lock) or at least 5 seconds, found the number 2; write 0 to join without the lock, or 60\n"
                       ".report.timeout_s: expected an integer between 1 and 300 (seconds), found the number 301\n"
                       ".report.progress_interval_s: expected an integer between 0 and 3600 (seconds), found the number 3601",
                       "ranges");
}

static void test_ports_and_order(void) {
        check_problems("{" JOIN_FIELDS ", \"services\": {\"flaredb\": {\"api_port\": 2379}, "
                       "\"iam\": {\"api_port\": 2480}}}",
                       ".services.flaredb.api_port: expected a port no other enabled service uses, found the number 2379; 2379 is also .services.chainfire.api_port (its default)\n"
                       ".services.iam.api_port: expected a port no other enabled service uses, found the number 2480; 2480 is also .services.flaredb.raft_port (its default)",
                       "ports in use twice");
        _cleanup_(config_freep) Config *c = parse_ok(
                "{" JOIN_FIELDS ", \"services\": {\"flaredb\": {\"api_port\": 2379, \"enabled\": false}}}",
                "a disabled service's port does not count");
        ok(c && !config_service(c, "flaredb")->enabled, "flaredb disabled");

        check_problems("{" JOIN_FIELDS ", \"timeouts\": {\"connect_s\": 11, \"backoff_initial_ms\": 500, "
                       "\"backoff_max_ms\": 400}}",
                       ".timeouts.connect_s: expected at most request_s (10 seconds, the default), found the number 11\n"
                       ".timeouts.backoff_initial_ms: expected at most backoff_max_ms (400 milliseconds), found the number 500",
                       "order of timeouts, blaming what the file sets");
        check_problems("{" JOIN_FIELDS ", \"timeouts\": {\"request_s\": 2, \"backoff_max_ms\": 100}}",
                       ".timeouts.request_s: expected at least connect_s (3 seconds, the default), found the number 2\n"
                       ".timeouts.backoff_max_ms: expected at least backoff_initial_ms (200 milliseconds, the default), found the number 100",
                       "order of timeouts against defaults");
}

static void test_sections(void) {
        check_problems("{" JOIN_FIELDS ", \"services\": [], \"network\": {\"a\": \"10.0.0.0\", "
                       "\"b\": 5, \"c\": \"10.0.0.0/40\"}, \"iam\": {\"secrets_file\": \"s.json\", "
                       "\"user_path\": \"/admin/users\", \"create_path\": \"admin/users\", "
                       "\"token_path\": \"/admin/tokens \", \"roles\": [\"admin\", \"\"]}, "
                       "\"timeouts\": null, \"health_check\": true, \"report\": {\"url\": \"report\"}}",
                       ".services: expected an object, found an empty array\n"
                       ".network.a: expected an address range ADDRESS/PREFIX such as \"10.0.0.0/16\", found the string \"10.0.0.0\"; the prefix length is missing\n"
                       ".network.b: expected an address range ADDRESS/PREFIX such as \"10.0.0.0/16\", found the number 5\n"
                       ".network.c: expected an address range ADDRESS/PREFIX such as \"10.0.0.0/16\", found the string \"10.0.0.0/40\"\n"
                       ".timeouts: expected an object, found null\n"
                       ".iam.secrets_file: expected an absolute path, found the string \"s.json\"; write the full path, starting with /\n"
                       ".iam.user_path: expected a URL path starting with / that contains {user}, found the string \"/admin/users\"; {user} marks where the user name goes\n"
                       ".iam.create_path: expected a URL path starting with /, found the string \"admin/users\"\n"
                       ".iam.token_path: expected a URL path starting with /, found the string \"/admin/tokens \"\n"
                       ".iam.roles[1]: expected a non-empty single-line string, found the string \"\"\n"
                       ".health_check: expected an object, found true\n"
                       ".report.url: expected an http:// or https:// URL with a host, found the string \"report\"; start it with http:// or https://",
                       "sections");
        check_problems("{" JOIN_FIELDS ", \"iam\": {\"roles\": []}}",
                       ".iam.roles: expected a non-empty array of role names, found an empty array",
                       "no roles");
}

/* Control characters: C0, DEL and C1 in values of every kind and in member names, each named
 * with its path and shown escaped. */
static void test_control_characters(void) {
        check_problems("{" JOIN_BASE ", \"tls\": {\"enabled\": true, \"secrets_dir\": \"/etc/s\\u001b]0;x\\u0007\"}, "
                       "\"rack\": \"r\\u009b1m\", \"datacenter\": \"d\\u007f\", "
                       "\"network\": {\"lan\\u0085\": \"10.0.0.0/8\"}, "
                       "\"iam\": {\"roles\": [\"admin\\u0001\"]}}",
                       ".network[\"lan\\u0085\"]: expected a member name without control characters, found the name \"lan\\u0085\"; control characters (C0, DEL, C1; shown escaped) are not allowed here: remove them\n"
                       ".datacenter: expected a non-empty single-line string, found the string \"d\\u007f\"; control characters (C0, DEL, C1; shown escaped) are not allowed here: remove them\n"
                       ".rack: expected a non-empty single-line string, found the string \"r\\u009b1m\"; control characters (C0, DEL, C1; shown escaped) are not allowed here: remove them\n"
                       ".tls.secrets_dir: expected an absolute path, found the string \"/etc/s\\u001b]0;x\\u0007\"; control characters (C0, DEL, C1; shown escaped) are not allowed here: remove them\n"
                       ".iam.roles[0]: expected a non-empty single-line string, found the string \"admin\\u0001\"; control characters (C0, DEL, C1; shown escaped) are not allowed here: remove them",
                       "control characters");
}

static void test_long_values(void) {
        char text[2048], long_value[600];

        memset(long_value, 'x', sizeof long_value - 1);
        long_value[sizeof long_value - 1] = '\0';
        snprintf(text, sizeof text, "{" JOIN_FIELDS ", \"rack\": \"\\u001b[31m\", \"datacenter\": 1.5, "
                 "\"%s\": 1}", long_value);
        check_problems(text,
                       ".[\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…\"]: expected a known key, found the unknown key \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…\"; known keys: node_id, node_role, bootstrap, cluster_name, leader_url, raft_addr, initial_peers, flaredb_peers, node_ip, node_fqdn, datacenter, rack, services, tls, network, timeouts, iam, health_check, report, metrics, state_dir, flash, provisioning\n"
                       ".datacenter: expected a non-empty single-line string, found the number 1.5\n"
                       ".rack: expected a non-empty single-line string, found the string \"\\u001b[31m\"; control characters (C0, DEL, C1; shown escaped) are not allowed here: remove them",
                       "long key cut, escape sequence escaped");
}

static void test_all_in_one_pass(void) {
        _cleanup_(config_freep) Config *c = NULL;
        ProblemList l = {};

        is_int(parse("{\"node_id\": 1, \"node_role\": 2, \"bootstrap\": 3, \"cluster_name\": 4, "
                     "\"raft_addr\": 5, \"leader_url\": 6, \"initial_peers\": 7, \"flaredb_peers\": 8, "
                     "\"node_ip\": 9, \"node_fqdn\": 10, \"datacenter\": 11, \"rack\": 12, "
                     "\"services\": 13, \"tls\": 14, \"network\": 15, \"timeouts\": 16, \"iam\": 17, "
                     "\"health_check\": 18, \"report\": 19, \"state_dir\": 20, \"flash\": 21}", &c, &l),
               -EINVAL, "all wrong");
        is_int(l.n, 21, "one problem per field, all in one pass");
        problem_list_done(&l);

        /* Problems already in the list stay and count for nothing. */
        problem_add(&l, "", "x", "y", NULL);
        c = parse_ok("{" JOIN_FIELDS "}", "with an earlier problem in the list");
        problem_list_done(&l);
}

static char *write_file(const char *name, const char *content, mode_t mode) {
        char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/%s", tmpdir, name) < 0)
                return NULL;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t) strlen(content) ||
            fchmod(fd, mode) < 0) {
                free(path);
                return NULL;
        }
        close(fd);
        return path;
}

/* The first problem of the list as a line (then empties the list), or NULL. */
static char *take_first(ProblemList *l) {
        char *s = l->n > 0 ? problem_format(&l->items[0]) : NULL;

        problem_list_done(l);
        return s;
}

static void is_first_problem(ProblemList *l, const char *expected, const char *what) {
        char *s = take_first(l);

        is_str(s, expected, "%s", what);
        free(s);
}

static void test_load(void) {
        _cleanup_free_ char *good = write_file("good.json", "{" JOIN_FIELDS "}", 0600);
        _cleanup_free_ char *open_ = write_file("open.json", "{" JOIN_FIELDS "}", 0644);
        _cleanup_free_ char *group = write_file("group.json", "{" JOIN_FIELDS "}", 0620);
        _cleanup_free_ char *bad = write_file("bad.json", "{\"node_id\": 1}", 0600);
        _cleanup_free_ char *missing = NULL, *big = NULL, *e_mode = NULL, *e_missing = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        ProblemList l = {};
        char *huge;

        ok(good && open_ && group && bad, "test files written");
        is_int(config_load(good, &c, &l), 0, "0600 file loads");
        ok(c && streq(c->path, good), "path recorded");
        is_int(l.n, 0, "no problems");
        c = config_free(c);

        is_int(config_load(open_, &c, &l), -EPERM, "0644 refused");
        ok(!c, "no config");
        is_int(l.n, 1, "one problem");
        ok(asprintf(&e_mode, "expected a file that only its owner can read or write (mode 0600), "
                    "found mode 0644; run: chmod 600 %s", open_) > 0, "expected text");
        is_first_problem(&l, e_mode, "mode and chmod");

        is_int(config_load(group, &c, &l), -EPERM, "0620 refused");
        is_str(l.n ? l.items[0].found : NULL, "mode 0620", "group write mode");
        problem_list_done(&l);

        ok(asprintf(&missing, "%s/missing.json", tmpdir) > 0, "missing path");
        is_int(config_load(missing, &c, &l), -ENOENT, "missing file");
        ok(asprintf(&e_missing, "expected an existing configuration file, found no file at %s; the path "
                    "comes from --config, else first_boot_agent.config= on the kernel command line, "
                    "else /etc/nixos/secrets/cluster-config.json", missing) > 0, "expected text");
        is_first_problem(&l, e_missing, "missing file problem");

        huge = calloc(1, CONFIG_MAX_SIZE + 2);
        if (huge) {
                memset(huge, ' ', CONFIG_MAX_SIZE + 1);
                big = write_file("big.json", huge, 0600);
                free(huge);
        }
        is_int(config_load(big, &c, &l), -EFBIG, "too large");
        is_first_problem(&l, "expected a file of at most 1 MiB, found a larger file", "size problem");

        is_int(config_load(tmpdir, &c, &l), -EPERM, "directory with group access");
        problem_list_done(&l);
        (void) chmod(tmpdir, 0700);
        is_int(config_load(tmpdir, &c, &l), -EISDIR, "directory");
        is_first_problem(&l, "expected a readable file, found the error \"Is a directory\"",
                         "directory problem");
        (void) chmod(tmpdir, 0755);

        is_int(config_load(bad, &c, &l), -EINVAL, "invalid content");
        ok(l.n == 3, "problems of the content (%zu)", l.n);
        problem_list_done(&l);
}

/* The seed's configs: no tls section, an https:// leader, the CA and the node's certificate in
 * the seed's layout (here a temporary secrets_dir), node_role and cluster_name left out. */
static void test_seed_defaults(void) {
        _cleanup_free_ char *dir = NULL, *ca = NULL, *crt = NULL, *key = NULL, *text = NULL, *empty = NULL;
        _cleanup_(config_freep) Config *c = NULL, *plain = NULL, *boot = NULL, *worker = NULL;

        ok(asprintf(&dir, "%s/secrets", tmpdir) > 0 && mkdir(dir, 0700) >= 0, "a secrets directory");
        ok(asprintf(&empty, "%s/empty-secrets", tmpdir) > 0 && mkdir(empty, 0700) >= 0, "an empty one");
        ok(asprintf(&ca, "%s/ca.crt", dir) > 0 && asprintf(&crt, "%s/node04.crt", dir) > 0 &&
           asprintf(&key, "%s/node04.key", dir) > 0, "paths");
        free(write_file("secrets/ca.crt", "x", 0644));
        free(write_file("secrets/node04.crt", "x", 0644));
        free(write_file("secrets/node04.key", "x", 0600));

        ok(asprintf(&text, "{\"node_id\": \"node04\", \"bootstrap\": false, "
                    "\"leader_url\": \"https://node01.prod.example.com:2379\", \"raft_addr\": \"10.0.1.13:2380\", "
                    "\"node_fqdn\": \"node04.prod.example.com\", \"tls\": {\"secrets_dir\": \"%s\"}}", dir) > 0, "text");
        c = parse_ok(text, "the seed's join example");
        if (!c)
                return;
        ok(c->tls.enabled && c->tls.enabled_source == CONFIG_SOURCE_LEADER_URL, "an https:// leader turns TLS on");
        is_str(c->tls.ca_cert_path, ca, "the seed's CA");
        is_int(c->tls.ca_source, CONFIG_SOURCE_SECRETS_DIR, "found in the secrets directory");
        is_str(c->tls.node_cert_path, crt, "NODE_ID.crt as the client certificate");
        is_str(c->tls.node_key_path, key, "NODE_ID.key as its key");
        is_int(c->tls.client_source, CONFIG_SOURCE_SECRETS_DIR, "found in the secrets directory");
        is_int(c->node_role, NODE_ROLE_CONTROL_PLANE, "no node_role: control-plane");
        is_int(c->node_role_source, CONFIG_SOURCE_DEFAULT, "by default");
        ok(c->cluster_name == NULL, "no cluster_name: none");
        ok(config_service(c, "chainfire")->enabled && config_service(c, "iam")->enabled, "every service runs");
        is_str(config_service(c, "chainfire")->health_url, "https://node04.prod.example.com:2379/health",
               "health checked under the node's FQDN");
        is_str(config_service(c, "chainfire")->health_connect, "10.0.1.13", "at the node's own address");
        is_str(c->iam.url, "https://node04.prod.example.com:8080", "IAM under the FQDN too");
        is_str(c->iam.connect, "10.0.1.13", "at the same address");
        is_str(config_service(c, "chainfire")->leader_url, "https://node01.prod.example.com:2379", "leader as given");

        free(text);
        ok(asprintf(&text, "{\"node_id\": \"node04\", \"bootstrap\": false, "
                    "\"leader_url\": \"https://node01:2379\", \"raft_addr\": \"10.0.1.13:2380\", "
                    "\"tls\": {\"secrets_dir\": \"%s\"}}", empty) > 0, "text");
        plain = parse_ok(text, "nothing in the secrets directory");
        ok(plain && plain->tls.enabled && !plain->tls.ca_cert_path && plain->tls.ca_source == CONFIG_SOURCE_SYSTEM,
           "TLS against the system's trust store");
        ok(plain && !plain->tls.node_cert_path && plain->tls.client_source == CONFIG_SOURCE_NONE, "no client certificate");

        free(text);
        ok(asprintf(&text, "{\"node_id\": \"aio01\", \"bootstrap\": true, \"raft_addr\": \"10.0.2.10:2380\", "
                    "\"initial_peers\": [\"aio01:2380\"], \"flaredb_peers\": [\"aio01:2480\"], "
                    "\"tls\": {\"secrets_dir\": \"%s\"}}", dir) > 0, "text");
        boot = parse_ok(text, "the seed's all-in-one example");
        ok(boot && boot->tls.enabled && boot->tls.enabled_source == CONFIG_SOURCE_SECRETS_DIR,
           "no leader URL: TLS because the seed's CA is there");
        free(text);
        ok(asprintf(&text, "{\"node_id\": \"aio01\", \"bootstrap\": true, \"raft_addr\": \"10.0.2.10:2380\", "
                    "\"initial_peers\": [\"aio01:2380\"], \"tls\": {\"secrets_dir\": \"%s\"}}", empty) > 0, "text");
        config_free(boot);
        boot = parse_ok(text, "a bootstrap node without the seed's CA");
        ok(boot && !boot->tls.enabled, "plain HTTP");
        is_str(boot ? config_service(boot, "chainfire")->health_url : NULL, "http://localhost:2379/health",
               "checked at localhost");

        worker = parse_ok("{\"node_id\": \"w1\", \"node_role\": \"worker\", \"bootstrap\": false, "
                          "\"leader_url\": \"http://10.0.1.10:2379\", \"raft_addr\": \"10.0.1.21:2380\", "
                          "\"services\": {\"flaredb\": {\"enabled\": true}}}", "a worker");
        ok(worker && !config_service(worker, "chainfire")->enabled && !config_service(worker, "iam")->enabled,
           "a worker runs no cluster service");
        is_int(worker ? (int) config_service(worker, "chainfire")->enabled_source : -1, CONFIG_SOURCE_ROLE, "because of its role");
        ok(worker && config_service(worker, "flaredb")->enabled, "unless the file says so");
        is_int(worker ? (int) config_service(worker, "flaredb")->enabled_source : -1, CONFIG_SOURCE_FILE, "which wins");
}

static void test_find_path(void) {
        _cleanup_free_ char *cmdline = write_file("cmdline", "BOOT_IMAGE=/vmlinuz quiet "
                                                  "first_boot_agent.config=/run/cfg.json ro\n", 0644);
        _cleanup_free_ char *empty = write_file("cmdline-empty", "quiet first_boot_agent.config=\n", 0644);
        _cleanup_free_ char *none = write_file("cmdline-none", "quiet splash\n", 0644);
        _cleanup_free_ char *missing = NULL;
        char *p = NULL;

        setenv("FIRST_BOOT_AGENT_PROC_CMDLINE", cmdline, 1);
        is_int(config_find_path("/x/given.json", &p), 0, "explicit");
        is_str(p, "/x/given.json", "--config wins");
        free(p);
        is_int(config_find_path(NULL, &p), 0, "kernel command line");
        is_str(p, "/run/cfg.json", "first_boot_agent.config=");
        free(p);

        setenv("FIRST_BOOT_AGENT_PROC_CMDLINE", none, 1);
        is_int(config_find_path(NULL, &p), 0, "no key");
        is_str(p, CONFIG_DEFAULT_PATH, "default");
        free(p);

        setenv("FIRST_BOOT_AGENT_PROC_CMDLINE", empty, 1);
        is_int(config_find_path(NULL, &p), 0, "empty value");
        is_str(p, CONFIG_DEFAULT_PATH, "empty value means the default");
        free(p);

        ok(asprintf(&missing, "%s/no-cmdline", tmpdir) > 0, "path");
        setenv("FIRST_BOOT_AGENT_PROC_CMDLINE", missing, 1);
        is_int(config_find_path(NULL, &p), 0, "unreadable command line");
        is_str(p, CONFIG_DEFAULT_PATH, "falls back to the default");
        free(p);
        unsetenv("FIRST_BOOT_AGENT_PROC_CMDLINE");
}

static void test_names(void) {
        is_str(node_role_to_string(NODE_ROLE_ALL_IN_ONE), "all-in-one", "role name");
        is_str(node_role_to_string(_NODE_ROLE_MAX), NULL, "no role name");
        is_str(service_kind_to_string(SERVICE_KIND_ETCD), "etcd", "kind name");
        is_int(service_kind_from_string("iam"), SERVICE_KIND_IAM, "kind from name");
        is_int(service_kind_from_string("raft"), -EINVAL, "unknown kind");
        is_int(service_kind_from_string(NULL), -EINVAL, "NULL kind");
        ok(config_free(NULL) == NULL, "config_free(NULL)");
}

static void cleanup_tmpdir(void) {
        static const char *const names[] = {
                "good.json", "open.json", "group.json", "big.json", "bad.json", "cmdline",
                "cmdline-empty", "cmdline-none",
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *p = NULL;

                if (asprintf(&p, "%s/%s", tmpdir, names[i]) > 0)
                        (void) unlink(p);
        }
        (void) rmdir(tmpdir);
}

int main(void) {
        char template[] = "/tmp/test-config-XXXXXX";

        tmpdir = mkdtemp(template);
        if (!tmpdir || chmod(tmpdir, 0755) < 0) {
                printf("Bail out! mkdtemp: %m\n");
                return 1;
        }

        test_join_defaults();
        test_bootstrap();
        test_overrides();
        test_ipv6();
        test_leader_overrides_only();
        test_flash_section();
        test_syntax();
        test_required();
        test_types_and_values();
        test_urls();
        test_unknown_keys();
        test_tls();
        test_ranges();
        test_ports_and_order();
        test_sections();
        test_control_characters();
        test_long_values();
        test_all_in_one_pass();
        test_load();
        test_seed_defaults();
        test_find_path();
        test_names();

        cleanup_tmpdir();
        return tap_done();
}
