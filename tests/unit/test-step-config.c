/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "step-fixture.h"
#include "step.h"
#include "tap.h"

/* The config step (step-config.c): the files the configuration names, readable and private,
 * and the directories the agent writes into, its own. Every problem is counted, the first one's
 * error returned. */

static char files[] = "/tmp/test-step-config.XXXXXX";
static char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], secrets[PATH_MAX], token_dir[PATH_MAX];

#define CONFIG                                                                                          \
        "{\"node_id\": \"node04\", \"bootstrap\": true, \"initial_peers\": [\"127.79.13.4:2380\"], "         \
        "\"raft_addr\": \"127.79.13.4:2380\", "                                                              \
        "\"tls\": {\"enabled\": true, \"ca_cert_path\": \"%s\", \"node_cert_path\": \"%s\", "              \
        "\"node_key_path\": \"%s\"}, \"iam\": {\"secrets_file\": \"%s\", \"token_file\": \"%s/token\"}, "  \
        "\"services\": {\"iam\": {\"enabled\": %s}}}"

static int run(bool iam, StepFixture *f) {
        (void) step_fixture_init(f, "config", NULL, CONFIG, ca, cert, key, secrets, token_dir, iam ? "true" : "false");
        return step_config(f->ctx);
}

static void put(const char *path, mode_t mode) {
        if (write_file_atomic(path, "x", 1, mode) < 0 || chmod(path, mode) < 0)
                printf("# cannot write %s\n", path);
}

int main(void) {
        StepFixture f;

        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);
        if (!mkdtemp(files))
                return 1;
        snprintf(ca, sizeof ca, "%s/ca.crt", files);
        snprintf(cert, sizeof cert, "%s/node04.crt", files);
        snprintf(key, sizeof key, "%s/node04.key", files);
        snprintf(secrets, sizeof secrets, "%s/iam-admin.json", files);
        snprintf(token_dir, sizeof token_dir, "%s/iam", files);
        put(ca, 0644);
        put(cert, 0644);
        put(key, 0600);
        put(secrets, 0600);
        (void) mkdir(token_dir, 0700);

        is_int(run(true, &f), 0, "every file in place and private");
        is_str(fixture_detail(&f), "TLS files, secrets file permissions and state directory checked", "the detail");
        step_fixture_done(&f);

        (void) chmod(key, 0640);
        is_int(run(true, &f), -EPERM, "a node key the group may read: -EPERM");
        is_str(fixture_error(&f), "1 problem with the files the configuration names (see the log): Operation not permitted",
               "one problem recorded");
        step_fixture_done(&f);

        (void) unlink(ca);
        is_int(run(true, &f), -ENOENT, "a missing CA as well: the first problem's error");
        ok(strstr(fixture_error(&f), "2 problems with the files") != NULL, "both counted: %s", fixture_error(&f));
        step_fixture_done(&f);
        put(ca, 0644);
        (void) chmod(key, 0600);

        (void) chmod(secrets, 0644);
        is_int(run(true, &f), -EPERM, "an IAM secrets file others may read: -EPERM");
        step_fixture_done(&f);
        is_int(run(false, &f), 0, "not checked when IAM is off");
        step_fixture_done(&f);
        (void) unlink(secrets);
        is_int(run(true, &f), 0, "a node without the secrets file (it does not create the admin) passes");
        step_fixture_done(&f);

        (void) chmod(token_dir, 0777);
        is_int(run(true, &f), -EPERM, "the token's directory writable by others: -EPERM");
        step_fixture_done(&f);
        is_int(run(false, &f), 0, "not checked when IAM is off");
        step_fixture_done(&f);
        (void) chmod(token_dir, 0700);

        (void) step_fixture_init(&f, "config", NULL, CONFIG, ca, cert, key, secrets, token_dir, "true");
        (void) chmod(f.dir, 0777);
        is_int(step_config(f.ctx), -EPERM, "a state directory writable by others: -EPERM");
        (void) chmod(f.dir, 0700);
        step_fixture_done(&f);

        (void) unlink(ca);
        (void) unlink(cert);
        (void) unlink(key);
        (void) rmdir(token_dir);
        (void) rmdir(files);
        return tap_done();
}
