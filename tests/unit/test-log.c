/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "secret.h"
#include "tap.h"

/* The records as JSON lines, and the last line of defence: a registered secret never reaches a
 * record, in the message or in a field. */

static char out_path[] = "/tmp/test-log-XXXXXX";
static int saved_stderr = -1;

/* Everything logged by fn, as one string. */
static char *capture(void (*fn)(void)) {
        char *text = NULL;
        size_t size;
        int fd;

        fd = open(out_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0)
                return strdup("");
        fflush(stderr);
        dup2(fd, STDERR_FILENO);
        close(fd);
        fn();
        fflush(stderr);
        dup2(saved_stderr, STDERR_FILENO);
        if (read_full_file(out_path, 1 << 20, &text, &size) < 0)
                return strdup("");
        return text;
}

static void log_plain(void) {
        log_event(LOG_NOTICE, MID_STEP_DONE, LOG_FIELDS("STEP", "health-wait", "ELAPSED_MS", "12"),
                  "Step '%s' done.", "health-wait");
        log_debug("not shown at the default level");
}

static void log_secret(void) {
        log_info("IAM answered: password 'correct horse battery' does not meet the policy");
        log_event(LOG_WARNING, NULL, LOG_FIELDS("ERROR", "token=correct horse battery;", "URL", "https://iam"),
                  "Request failed.");
}

static void log_errno(void) {
        errno = 0;
        log_error_errno(ENOENT, "Cannot open '%s': %m", "/nope");
}

int main(void) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        int fd;

        fd = mkstemp(out_path);
        ok(fd >= 0, "a file for standard error");
        close(fd);
        saved_stderr = dup(STDERR_FILENO);

        log_setup(LOG_TARGET_JSON);
        log_set_node_id("node04");
        a = capture(log_plain);
        ok(strstr(a, "\"message\":\"Step 'health-wait' done.\"") != NULL, "the message");
        ok(strstr(a, "\"priority\":5") != NULL, "the priority");
        ok(strstr(a, "\"NODE_ID\":\"node04\"") != NULL, "NODE_ID on every record");
        ok(strstr(a, "\"ELAPSED_MS\":\"12\"") != NULL, "the fields");
        ok(strstr(a, "\"message_id\":\"" MID_STEP_DONE "\"") != NULL, "the MESSAGE_ID");
        ok(strstr(a, "not shown") == NULL, "debug records stay out by default");
        ok(strchr(a, '\n') == strrchr(a, '\n'), "one line per record");

        secret_register("correct horse battery");
        secret_register("abc");     /* too short to be worth redacting */
        b = capture(log_secret);
        ok(strstr(b, "correct horse") == NULL, "a registered secret never appears");
        ok(strstr(b, "[redacted]") != NULL, "it is replaced");
        ok(strstr(b, "\"ERROR\":\"token=[redacted];\"") != NULL, "also in fields");

        secret_forget_all();
        c = capture(log_secret);
        ok(strstr(c, "correct horse battery") != NULL, "forgotten secrets are no longer replaced");

        d = capture(log_errno);
        ok(strstr(d, "No such file or directory") != NULL, "%%m is the error passed in");
        ok(strstr(d, "\"ERRNO\":\"2\"") != NULL, "and ERRNO is a field");

        close(saved_stderr);
        unlink(out_path);
        return tap_done();
}
