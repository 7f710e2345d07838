/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "iam-secrets.h"
#include "log.h"
#include "secret.h"
#include "tap.h"

/* The IAM admin's secrets file (iam-secrets.c): what it must look like, the permissions it must
 * have, and that its secrets are registered for redaction as they are read. */

static char dir[] = "/tmp/test-iam-secrets.XXXXXX";
static char path[PATH_MAX];

static int load(const char *text, mode_t mode, IamSecrets *ret) {
        *ret = (IamSecrets) {};
        if (write_file_atomic(path, text, strlen(text), 0600) < 0 || chmod(path, mode) < 0)
                return -ENOTRECOVERABLE;
        return iam_secrets_load(path, ret);
}

static void test_good(void) {
        IamSecrets s;
        _cleanup_free_ char *redacted = NULL;

        secret_forget_all();
        is_int(load("{\"username\": \"admin\", \"password\": \"pw-0123456789\"}", 0600, &s), 0, "user and password");
        is_str(s.username, "admin", "the username");
        is_str(s.password, "pw-0123456789", "the password");
        ok(s.bootstrap_token == NULL, "no bootstrap token");
        redacted = secret_redact("login admin:pw-0123456789 failed");
        is_str(redacted, "login admin:" SECRET_REDACTED " failed", "the password is redacted from then on");
        is_int(secret_count(), 1, "only the password is a secret");
        iam_secrets_done(&s);
        ok(!s.username && !s.password, "done frees");

        is_int(load("{\"username\": \"root\", \"password\": \"pw-abcdef\", \"bootstrap_token\": \"tok-9876543210\", "
                    "\"comment\": \"ignored\"}", 0400, &s), 0, "with a bootstrap token, an unknown key, mode 0400");
        is_str(s.bootstrap_token, "tok-9876543210", "the token");
        is_int(secret_count(), 3, "the token registered too");
        iam_secrets_done(&s);
        secret_forget_all();
}

static void test_refused(void) {
        static const struct {
                const char *text;
                int error;
                const char *why;
        } bad[] = {
                { "{\"username\": \"admin\"}", -EINVAL, "no password" },
                { "{\"password\": \"pw-0123456789\"}", -EINVAL, "no username" },
                { "{\"username\": \"\", \"password\": \"pw-0123456789\"}", -EINVAL, "an empty username" },
                { "{\"username\": \"admin\", \"password\": 1234}", -EINVAL, "a password that is not a string" },
                { "{\"username\": \"admin\", \"password\": \"pw\", \"bootstrap_token\": \"\"}", -EINVAL,
                  "an empty bootstrap token" },
                { "[\"admin\", \"pw\"]", -EINVAL, "not an object" },
                { "{\"username\": \"admin\", \"password\": \"pw\",}", -EINVAL, "not JSON" },
                { "{\"username\": \"admin\", \"username\": \"root\", \"password\": \"pw\"}", -EINVAL, "a key twice" },
        };
        IamSecrets s;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                is_int(load(bad[i].text, 0600, &s), bad[i].error, "refused: %s", bad[i].why);
                ok(!s.username && !s.password && !s.bootstrap_token, "and nothing handed back");
        }

        secret_forget_all();
        is_int(load("{\"username\": \"admin\", \"password\": \"pw-0123456789\"}", 0640, &s), -EPERM,
               "a file the group may read is refused");
        ok(!s.password, "unread");
        is_int(load("{\"username\": \"admin\", \"password\": \"pw-0123456789\"}", 0604, &s), -EPERM,
               "one others may read too");
        is_int(secret_count(), 0, "nothing read from a file open to others");

        (void) unlink(path);
        is_int(iam_secrets_load(path, &s), -ENOENT, "a missing file");
        is_int(iam_secrets_load(NULL, &s), -EINVAL, "no file configured");
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);
        if (!mkdtemp(dir))
                return 1;
        snprintf(path, sizeof path, "%s/iam-admin.json", dir);

        test_good();
        test_refused();

        (void) unlink(path);
        (void) rmdir(dir);
        return tap_done();
}
