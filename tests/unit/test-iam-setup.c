/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-load.h"
#include "fileio.h"
#include "join-procedure.h"
#include "step.h"
#include "tap.h"

/* The IAM admin's credentials and this node's own IAM: when iam.url is derived (from node_fqdn
 * and node_ip, which a provisioning answer may set), they go only to an address of this
 * machine. Nothing here reaches another machine: 255.255.255.255 cannot be connected to, and
 * the rest is on the loopback (127.77.0.0/16, a port nobody listens on). */

#define SECRETS "{\"username\": \"admin\", \"password\": \"pw\"}"

static char tmp_dir[] = "/tmp/test-iam-setup.XXXXXX";
static char secrets[PATH_MAX];

static Config *config_of(const char *members) {
        _cleanup_free_ char *text = NULL;
        ProblemList l = {};
        Config *c = NULL;

        if (asprintf(&text, "{\"node_id\": \"node04\", \"bootstrap\": true, \"initial_peers\": [\"127.77.0.4:2380\"], "
                     "\"tls\": {\"enabled\": true}, \"iam\": {\"secrets_file\": \"%s\"}, "
                     "\"timeouts\": {\"join_attempts\": 1, \"connect_s\": 2}, %s}", secrets, members) < 0)
                abort();
        if (config_parse(text, strlen(text), "/etc/cluster-config.json", &c, &l) < 0)
                for (size_t i = 0; i < l.n; i++)
                        fprintf(stderr, "# %s\n", problem_format(&l.items[i]));
        problem_list_done(&l);
        return c;
}

static int run(const char *members, Config **ret) {
        StepContext ctx = { .state_dir = tmp_dir };

        *ret = config_of(members);
        if (!*ret)
                return -EINVAL;
        ctx.config = *ret;
        return step_iam_setup(&ctx);
}

int main(void) {
        _cleanup_(config_freep) Config *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        int r;

        if (!mkdtemp(tmp_dir))
                return 1;
        snprintf(secrets, sizeof secrets, "%s/iam-admin.json", tmp_dir);
        if (write_file_atomic(secrets, SECRETS, strlen(SECRETS), 0600) < 0)
                return 1;

        /* An answer that names the node at another machine's address. */
        r = run("\"node_fqdn\": \"node04.example\", \"node_ip\": \"255.255.255.255\", \"raft_addr\": \"127.77.0.4:2380\", "
                "\"services\": {\"iam\": {\"enabled\": true}}", &a);
        ok(a && a->iam.url_is_own && streq(a->iam.url, "https://node04.example:8080"),
           "iam.url is derived from node_fqdn: %s", a ? a->iam.url : "(no configuration)");
        is_int(r, -EBADE, "node_ip another machine's: the credentials are refused to it (exit 5), nothing sent");

        /* The same from raft_addr's host, when there is no node_ip. */
        r = run("\"node_fqdn\": \"node04.example\", \"raft_addr\": \"255.255.255.255:2380\", "
                "\"services\": {\"iam\": {\"enabled\": true}}", &b);
        is_int(r, -EBADE, "raft_addr's host another machine's: refused too");

        /* This machine's address: checked and asked (nobody listens there: a failure, not a refusal). */
        r = run("\"node_fqdn\": \"node04.example\", \"node_ip\": \"127.77.0.4\", \"raft_addr\": \"127.77.0.4:2380\", "
                "\"services\": {\"iam\": {\"enabled\": true, \"api_port\": 9}}", &c);
        ok(c && c->iam.url_is_own && r < 0 && r != -EBADE && r != -EINVAL, "node_ip this machine's: asked, not refused (%s)",
           strerror(-r));

        /* The image's own iam.url is the image's choice: not judged. */
        r = run("\"node_ip\": \"127.77.0.4\", \"raft_addr\": \"127.77.0.4:2380\", \"services\": {\"iam\": {\"enabled\": true, \"url\": "
                "\"https://255.255.255.255:9\"}}", &d);
        ok(d && !d->iam.url_is_own, "iam.url set in the file is not derived");
        ok(d && r < 0 && r != -EBADE && r != -EINVAL, "the file's own iam.url: asked, not refused (%s)", strerror(-r));

        (void) unlink(secrets);
        (void) rmdir(tmp_dir);
        return tap_done();
}
