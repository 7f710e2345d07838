/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-load.h"
#include "config-provisioning.h"
#include "config-static-network.h"
#include "fileio.h"
#include "tap.h"

/* The "provisioning" section, the template rules it brings, the kernel command line's URL, and
 * "network.static". */

#define CLUSTER "\"cluster_name\": \"prod\", \"leader_url\": \"https://10.0.1.10:2379\", \"tls\": {\"enabled\": true}"

static char cmdline[] = "/tmp/test-config-provisioning.XXXXXX";

static char *lines(const ProblemList *l) {
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

static Config *parse_ok(const char *text, const char *what) {
        _cleanup_free_ char *all = NULL;
        ProblemList l = {};
        Config *c = NULL;

        is_int(config_parse(text, strlen(text), "t.json", &c, &l), 0, "%s: accepted", what);
        all = lines(&l);
        if (l.n > 0)
                printf("#   %s\n", all);
        problem_list_done(&l);
        return c;
}

static void check_problems(const char *text, const char *expected, const char *what) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *all = NULL;
        ProblemList l = {};

        is_int(config_parse(text, strlen(text), "t.json", &c, &l), -EINVAL, "%s: refused", what);
        all = lines(&l);
        is_str(all, expected, "%s: problems", what);
        problem_list_done(&l);
}

/* In place: the file is in /tmp, where write_file_atomic() rightly refuses to write. */
static void set_cmdline(const char *text) {
        FILE *f = fopen(cmdline, "we");

        ok(f && fputs(text, f) >= 0 && fclose(f) == 0, "command line '%.*s' written", (int) strcspn(text, "\n"), text);
}

int main(void) {
        Config *c;
        int fd;

        /* No /proc/cmdline of the machine running the test. */
        fd = mkstemp(cmdline);
        if (fd < 0) {
                ok(false, "temporary file");
                return tap_done();
        }
        close(fd);
        set_cmdline("quiet\n");
        setenv("FIRST_BOOT_AGENT_PROC_CMDLINE", cmdline, 1);

        c = parse_ok("{" CLUSTER ", \"provisioning\": {\"url\": \"https://prov:8443/v1/node\"}}", "a template");
        ok(c && c->provisioning && !c->node_id, "provisioning set, no node_id");
        if (c && c->provisioning) {
                is_str(c->provisioning->url, "https://prov:8443/v1/node", "url");
                is_int(c->provisioning->key, PROVISIONING_KEY_NONE, "the query form");
                is_int(c->provisioning->max_size, 64 * 1024, "max_size default");
                is_int(c->provisioning->wait, 0, "waits until known");
                is_int(c->provisioning->retry_max, 60 * USEC_PER_SEC, "retry_max default");
                ok(c->provisioning->hostname, "sets the host name by default");
                ok(json_is_object(c->provisioning->template), "keeps the file as the template");
                ok(!c->provisioning->url_from_cmdline, "the URL is the file's");
        }
        config_free(c);

        c = parse_ok("{" CLUSTER ", \"provisioning\": {\"url\": \"http://10.0.0.1/nodes/{mac}.json\", "
                     "\"public_key\": \"/etc/p.pub\", \"ca_cert_path\": \"/etc/ca.crt\", \"max_size\": 2048, "
                     "\"wait_s\": 600, \"retry_max_s\": 5, \"hostname\": false}}", "every key");
        if (c && c->provisioning) {
                is_int(c->provisioning->key, PROVISIONING_KEY_MAC, "{mac}");
                is_str(c->provisioning->public_key, "/etc/p.pub", "public_key");
                is_str(c->provisioning->ca_cert_path, "/etc/ca.crt", "ca_cert_path");
                is_int(c->provisioning->max_size, 2048, "max_size");
                is_int(c->provisioning->wait, 600 * USEC_PER_SEC, "wait_s");
                is_int(c->provisioning->retry_max, 5 * USEC_PER_SEC, "retry_max_s");
                ok(!c->provisioning->hostname, "hostname false");
        }
        config_free(c);

        c = parse_ok("{\"node_id\": \"node04\", \"node_role\": \"worker\", \"bootstrap\": false, "
                     "\"raft_addr\": \"10.0.1.13:2380\", " CLUSTER ", \"provisioning\": {\"url\": \"https://p/{uuid}\"}}",
                     "a full configuration may have the section too");
        ok(c && c->provisioning && c->provisioning->key == PROVISIONING_KEY_UUID, "{uuid}");
        config_free(c);

        check_problems("{" CLUSTER "}",
                       ".node_id: expected a name of 1 to 63 characters from A-Z, a-z, 0-9, '.', '_' and '-', found nothing\n"
                       ".bootstrap: expected true or false, found nothing\n"
                       ".raft_addr: expected an address HOST:PORT with a port between 1 and 65535, found nothing",
                       "no node_id and no provisioning: the node's fields are required");
        check_problems("{\"node_id\": \"node04\", " CLUSTER ", \"provisioning\": {\"url\": \"https://p/v1\"}}",
                       ".bootstrap: expected true or false, found nothing\n"
                       ".raft_addr: expected an address HOST:PORT with a port between 1 and 65535, found nothing",
                       "with node_id it is no template: the rest is required");
        check_problems("{" CLUSTER ", \"provisioning\": {\"ur\": \"https://p\", \"max_size\": 10, \"hostname\": 1}}",
                       ".provisioning.ur: expected a known key, found the unknown key \"ur\"; did you mean \"url\"?\n"
                       ".provisioning.max_size: expected an integer between 1024 and 1048576 (bytes), found the number 10\n"
                       ".provisioning.hostname: expected true or false, found the number 1\n"
                       ".provisioning.url: expected an http(s) URL, optionally with one placeholder {mac}, {uuid} or "
                       "{serial} in its path (required, unless the kernel command line has "
                       "first_boot_agent.metadata_url=), found nothing",
                       "every problem of the section");
        check_problems("{" CLUSTER ", \"provisioning\": {\"url\": \"https://p/{mac}/{uuid}\"}}",
                       ".provisioning.url: expected an http(s) URL, optionally with one placeholder {mac}, {uuid} or "
                       "{serial} in its path, found the string \"https://p/{mac}/{uuid}\"; use at most one kind of "
                       "placeholder, {mac}, {uuid} or {serial}, and only in the path",
                       "two kinds of placeholder");
        check_problems("{" CLUSTER ", \"provisioning\": {\"url\": \"https://{mac}/x\"}}",
                       ".provisioning.url: expected an http(s) URL, optionally with one placeholder {mac}, {uuid} or "
                       "{serial} in its path, found the string \"https://{mac}/x\"",
                       "a placeholder in the host");
        check_problems("{" CLUSTER ", \"provisioning\": {\"url\": \"https://p/{hostname}\"}}",
                       ".provisioning.url: expected an http(s) URL, optionally with one placeholder {mac}, {uuid} or "
                       "{serial} in its path, found the string \"https://p/{hostname}\"; use at most one kind of "
                       "placeholder, {mac}, {uuid} or {serial}, and only in the path",
                       "an unknown placeholder");

        /* Plain HTTP needs signed answers: an answer configures the node. */
        check_problems("{" CLUSTER ", \"provisioning\": {\"url\": \"http://127.0.0.1:8080/v1/node\"}}",
                       ".provisioning.url: expected an https:// URL, or provisioning.public_key set (signed answers): "
                       "over plain HTTP anyone on the network path could answer, and an answer configures the node, "
                       "found the string \"http://127.0.0.1:8080/v1/node\"; write https:// (the server's certificate "
                       "checked against provisioning.ca_cert_path), or sign the answers and put the public key in "
                       "provisioning.public_key (see the README)",
                       "http:// without public_key, loopback included");

        /* provisioning.allow: key paths, checked. */
        c = parse_ok("{" CLUSTER ", \"provisioning\": {\"url\": \"https://p/v1\", \"allow\": "
                     "[\".services.*.health_url\", \".leader_url\", \".iam\"]}}", "provisioning.allow");
        ok(c && c->provisioning && c->provisioning->allow && c->provisioning->allow[2] &&
           streq(c->provisioning->allow[2], ".iam") && !c->provisioning->allow[3], "allow: three paths");
        config_free(c);
        check_problems("{" CLUSTER ", \"provisioning\": {\"url\": \"https://p/v1\", \"allow\": "
                       "[\"leader_url\", \".state_dir\", \".provisioning.url\", \".*\", \".services..enabled\", "
                       "\".services.chain fire\"]}}",
                       ".provisioning.allow[0]: expected a key path such as \".services.*.health_url\" (a '.' before each "
                       "member name, \"*\" for any one), found the string \"leader_url\"; write a path as the problems "
                       "name members: \".leader_url\", \".services.*.health_url\"\n"
                       ".provisioning.allow[1]: expected a key path such as \".services.*.health_url\" (a '.' before each "
                       "member name, \"*\" for any one), found the string \".state_dir\"; provisioning and state_dir "
                       "are never an answer's to change\n"
                       ".provisioning.allow[2]: expected a key path such as \".services.*.health_url\" (a '.' before each "
                       "member name, \"*\" for any one), found the string \".provisioning.url\"; provisioning and "
                       "state_dir are never an answer's to change\n"
                       ".provisioning.allow[3]: expected a key path such as \".services.*.health_url\" (a '.' before each "
                       "member name, \"*\" for any one), found the string \".*\"; name a top-level member: \".*\" "
                       "would hand the whole configuration to the server\n"
                       ".provisioning.allow[4]: expected a key path such as \".services.*.health_url\" (a '.' before each "
                       "member name, \"*\" for any one), found the string \".services..enabled\"; member names of "
                       "letters, digits, '_' and '-', or \"*\" for any one member, each after a '.'\n"
                       ".provisioning.allow[5]: expected a key path such as \".services.*.health_url\" (a '.' before each "
                       "member name, \"*\" for any one), found the string \".services.chain fire\"; member names of "
                       "letters, digits, '_' and '-', or \"*\" for any one member, each after a '.'",
                       "bad allow paths, each named");

        /* The kernel command line. */
        set_cmdline("quiet first_boot_agent.metadata_url=https://10.0.0.9/nodes/{serial}.json\n");
        c = parse_ok("{" CLUSTER "}", "no section, no node_id: the command line makes a template");
        ok(c && c->provisioning && c->provisioning->url_from_cmdline, "the URL is the command line's");
        if (c && c->provisioning) {
                is_str(c->provisioning->url, "https://10.0.0.9/nodes/{serial}.json", "url");
                is_int(c->provisioning->key, PROVISIONING_KEY_SERIAL, "{serial}");
        }
        config_free(c);
        c = parse_ok("{" CLUSTER ", \"provisioning\": {\"url\": \"https://file/v1\", \"wait_s\": 5}}",
                     "the command line wins over the file's URL");
        if (c && c->provisioning) {
                is_str(c->provisioning->url, "https://10.0.0.9/nodes/{serial}.json", "url from the command line");
                is_int(c->provisioning->wait, 5 * USEC_PER_SEC, "the rest from the file");
        }
        config_free(c);
        set_cmdline("first_boot_agent.metadata_url=ftp://x/\n");
        check_problems("{" CLUSTER ", \"provisioning\": {\"url\": \"https://file/v1\"}}",
                       "first_boot_agent.metadata_url (kernel command line): expected an http(s) URL, optionally "
                       "with one placeholder {mac}, {uuid} or {serial} in its path, found ftp://x/; the scheme must be "
                       "http:// or https://",
                       "a bad URL on the command line");
        set_cmdline("quiet first_boot_agent.metadata_url=http://10.0.0.9/v1/node\n");
        check_problems("{" CLUSTER "}",
                       "first_boot_agent.metadata_url (kernel command line): expected an https:// URL, or "
                       "provisioning.public_key set (signed answers): over plain HTTP anyone on the network path could "
                       "answer, and an answer configures the node, found the string \"http://10.0.0.9/v1/node\"; write "
                       "https:// (the server's certificate checked against provisioning.ca_cert_path), or sign the "
                       "answers and put the public key in provisioning.public_key (see the README)",
                       "an http:// URL on the command line without public_key");
        c = parse_ok("{" CLUSTER ", \"provisioning\": {\"public_key\": \"/etc/p.pub\"}}",
                     "the same with provisioning.public_key in the file");
        config_free(c);
        set_cmdline("quiet\n");

        /* network.static */
        c = parse_ok("{" CLUSTER ", \"provisioning\": {\"url\": \"https://p/v1\"}, \"network\": {\"cluster_cidr\": "
                     "\"10.20.0.0/16\", \"static\": {\"mac\": \"52-54-00-AB-CD-EF\", \"address\": \"10.0.1.13/24\", "
                     "\"gateway\": \"10.0.1.1\", \"dns\": [\"10.0.1.1\", \"fd00::53\"], \"wait_s\": 30}}}",
                     "network.static");
        ok(c && c->network_static, "network_static set");
        if (c && c->network_static) {
                is_str(c->network_static->mac, "52:54:00:ab:cd:ef", "mac normalised");
                is_str(c->network_static->address, "10.0.1.13/24", "address");
                is_str(c->network_static->gateway, "10.0.1.1", "gateway");
                ok(c->network_static->dns && c->network_static->dns[1] && !c->network_static->dns[2], "two DNS servers");
                is_int(c->network_static->wait, 30 * USEC_PER_SEC, "wait_s");
                is_int(c->n_network, 1, "the named range stays a named range");
        }
        config_free(c);
        check_problems("{" CLUSTER ", \"provisioning\": {\"url\": \"https://p/v1\"}, \"network\": {\"static\": "
                       "{\"mac\": \"52:54:00\", \"gateway\": \"10.0.1.300\", \"via\": 1}}}",
                       ".network.static.via: expected a known key, found the unknown key \"via\"; known keys: mac, "
                       "address, gateway, dns, wait_s\n"
                       ".network.static.mac: expected a MAC address such as \"52:54:00:12:34:56\", found the string "
                       "\"52:54:00\"\n"
                       ".network.static.address: expected an address range ADDRESS/PREFIX such as \"10.0.0.0/16\", found nothing\n"
                       ".network.static.gateway: expected an IPv4 or IPv6 address, found the string \"10.0.1.300\"",
                       "network.static problems");
        check_problems("{" CLUSTER ", \"provisioning\": {\"url\": \"https://p/v1\"}, \"network\": {\"static\": \"10.0.0.1/8\"}}",
                       ".network.static: expected an object with at least \"address\", found the string \"10.0.0.1/8\"",
                       "network.static must be an object");

        unlink(cmdline);
        return tap_done();
}
