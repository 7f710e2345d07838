/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "iam-secrets.h"
#include "json-util.h"
#include "log.h"
#include "secret.h"

#define IAM_SECRETS_MAX_SIZE (64 * 1024)

void iam_secrets_done(IamSecrets *s) {
        s->username = secret_free(s->username);
        s->password = secret_free(s->password);
        s->bootstrap_token = secret_free(s->bootstrap_token);
}

static void wipe_buffer(char **p, size_t size) {
        if (*p) {
                explicit_bzero(*p, size);
                free(*p);
                *p = NULL;
        }
}

/* Takes a string member: register it as a secret (when it is one) before anything else. */
static int take_string(json_t *root, const char *key, bool secret, bool required, const char *path,
                       char **ret) {
        json_t *v = json_object_get(root, key);
        char *copy;

        if (!v && !required) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v) || json_string_length(v) == 0) {
                /* Name the key and the type, never the value. */
                log_error("IAM secrets file '%s': \"%s\" must be a non-empty string%s.", path, key,
                          !v ? ", but it is missing" : json_is_string(v) ? ", but it is empty" : "");
                return -EINVAL;
        }
        if (secret)
                secret_register(json_string_value(v));

        copy = strdup(json_string_value(v));
        if (!copy)
                return log_oom();
        *ret = copy;
        return 0;
}

int iam_secrets_load(const char *path, IamSecrets *ret) {
        IamSecrets s = {};
        char *data = NULL;
        size_t size = 0;
        json_error_t err;
        json_t *root, *v;
        const char *key;
        mode_t mode = 0;
        int r;

        if (!path)
                return log_error_errno(EINVAL, "IAM is enabled but no secrets file is configured: set "
                                       "iam.secrets_file to a 0600 JSON file {\"username\",\"password\"}.");

        r = check_file_private(path, &mode);
        if (r == -EPERM) {
                if (mode & 077)
                        return log_error_errno(r, "IAM secrets file '%s' may be read by group or others "
                                               "(mode %04o): refusing to use it. Run 'chmod 600 %s'.",
                                               path, (unsigned) (mode & 07777), path);
                return log_error_errno(r, "IAM secrets file '%s' is owned by another user: refusing to use "
                                       "it. Run 'chown root: %s' and 'chmod 600 %s'.", path, path, path);
        }
        if (r == -ENOENT)
                return log_error_errno(r, "IAM secrets file '%s' does not exist. Create it (mode 0600) with "
                                       "{\"username\": …, \"password\": …}, or disable IAM in the config.", path);
        if (r < 0)
                return log_error_errno(r, "Failed to check IAM secrets file '%s': %m", path);

        r = read_full_file(path, IAM_SECRETS_MAX_SIZE, &data, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read IAM secrets file '%s': %m", path);

        root = json_loadb(data, size, JSON_REJECT_DUPLICATES, &err);
        wipe_buffer(&data, size);
        if (!root)
                /* err.text may quote the file's bytes: give the position only. */
                return log_error_errno(EINVAL, "IAM secrets file '%s' is not valid JSON (line %d, column %d). "
                                       "Expected {\"username\": …, \"password\": …[, \"bootstrap_token\": …]}.",
                                       path, err.line, err.column);
        if (!json_is_object(root)) {
                json_decref(root);
                return log_error_errno(EINVAL, "IAM secrets file '%s' must hold a JSON object "
                                       "{\"username\", \"password\"[, \"bootstrap_token\"]}.", path);
        }

        /* Secrets first, so that they are registered before any other line can mention them. */
        r = take_string(root, "password", true, true, path, &s.password);
        if (r >= 0)
                r = take_string(root, "bootstrap_token", true, false, path, &s.bootstrap_token);
        if (r >= 0)
                r = take_string(root, "username", false, true, path, &s.username);

        json_object_foreach(root, key, v) {
                json_string_wipe(v);
                if (r >= 0 && !streq(key, "username") && !streq(key, "password") && !streq(key, "bootstrap_token"))
                        log_warning("IAM secrets file '%s': unknown key \"%s\" ignored.", path, key);
        }
        json_decref(root);

        if (r < 0) {
                iam_secrets_done(&s);
                return r;
        }

        *ret = s;
        return 0;
}
