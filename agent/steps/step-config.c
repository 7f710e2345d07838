/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir-trust.h"
#include "fileio.h"
#include "log.h"
#include "step.h"

/* The "config" step: what config_load() cannot check, because it depends on the files the
 * configuration names and on the machine: TLS files readable, secrets private, the state
 * directory writable. It runs on every walk that has work left and reports every problem. */

/* Opens the file for reading (access() would say yes to root for any file). */
static int check_readable(const char *setting, const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return log_error_errno(errno, "Cannot read '%s' (%s): %m. Put the file in place or correct %s.",
                                       path, setting, setting);
        (void) close(fd);
        return 0;
}

static int check_private(const char *setting, const char *path) {
        mode_t mode = 0;
        int r;

        r = check_readable(setting, path);
        if (r < 0)
                return r;
        r = check_file_private(path, &mode);
        if (r == -EPERM && (mode & 077))
                return log_error_errno(r, "'%s' (%s) is open to group or others (mode %04o); it holds a secret. "
                                       "Run: chmod 600 '%s'", path, setting, (unsigned) mode, path);
        if (r == -EPERM)
                return log_error_errno(r, "'%s' (%s) belongs to another user; it holds a secret. "
                                       "Run: chown root: '%s'", path, setting, path);
        if (r < 0)
                return log_error_errno(r, "Cannot check the permissions of '%s' (%s): %m", path, setting);
        return 0;
}

/* Markers, the state file and the token are written only into a directory nobody else can
 * write to; say which one and what to run. */
static int check_dir_trusted_or_say(const char *setting, const char *dir) {
        mode_t mode = 0;
        uid_t uid = 0;
        int r;

        r = dir_trust_check(dir, &mode, &uid);
        if (r == -ENOENT)
                return 0;       /* created 0700 when first written */
        if (r == -EPERM && (mode & (S_IWGRP | S_IWOTH)))
                return log_error_errno(r, "Refusing to write into '%s' (%s): group or others may write to it "
                                       "(mode %04o), so they could replace or read what goes there. "
                                       "Run: chmod go-w '%s'", dir, setting, (unsigned) mode, dir);
        if (r == -EPERM)
                return log_error_errno(r, "Refusing to write into '%s' (%s): it belongs to uid %u, not to root. "
                                       "Run: chown root: '%s'", dir, setting, (unsigned) uid, dir);
        if (r < 0)
                return log_error_errno(r, "Cannot check the directory '%s' (%s): %m", dir, setting);
        return 0;
}

static int check_dir_writable(const char *dir) {
        _cleanup_free_ char *p = path_join(dir, ".write-test-XXXXXX");
        int fd;

        if (!p)
                return log_oom();
        /* A real write: access(W_OK) says yes to root on a read-only file system. */
        fd = mkstemp(p);
        if (fd < 0)
                return log_error_errno(errno, "State directory '%s' is not writable: %m. "
                                       "Markers and the state file live there.", dir);
        (void) close(fd);
        (void) unlink(p);
        return 0;
}

int step_config(StepContext *ctx) {
        const Config *c = ctx->config;
        const ServiceConfig *iam = config_service_of_kind(c, SERVICE_KIND_IAM);
        unsigned n = 0;
        int first = 0, r;

#define CHECK(expr)                                             \
        do {                                                    \
                r = (expr);                                     \
                if (r < 0) {                                    \
                        if (n++ == 0)                           \
                                first = r;                      \
                }                                               \
        } while (0)

        if (c->tls.enabled) {
                if (c->tls.ca_cert_path && !c->tls.insecure_skip_verify)
                        CHECK(check_readable("tls.ca_cert_path", c->tls.ca_cert_path));
                if (c->tls.node_cert_path)
                        CHECK(check_readable("tls.node_cert_path", c->tls.node_cert_path));
                if (c->tls.node_key_path)
                        CHECK(check_private("tls.node_key_path", c->tls.node_key_path));
        }
        /* The secrets file is needed only on the node that creates the IAM admin; where it
         * exists, it must be private. */
        if (iam && iam->enabled && c->iam.secrets_file && access(c->iam.secrets_file, F_OK) >= 0)
                CHECK(check_private("iam.secrets_file", c->iam.secrets_file));
        CHECK(check_dir_trusted_or_say("the state directory", ctx->state_dir));
        CHECK(check_dir_writable(ctx->state_dir));
        if (iam && iam->enabled && c->iam.token_file) {
                _cleanup_free_ char *token_dir = strdup(c->iam.token_file);

                if (!token_dir)
                        return log_oom();
                CHECK(check_dir_trusted_or_say("iam.token_file", dirname(token_dir)));
        }
#undef CHECK

        if (n > 0) {
                step_set_error(ctx, "%u problem%s with the files the configuration names (see the log): %s",
                                n, n == 1 ? "" : "s", strerror(-first));
                return first;
        }
        step_set_detail(ctx, "TLS files, secrets file permissions and state directory checked");
        return 0;
}

