/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "local-etcd.h"
#include "log.h"
#include "tap.h"

/* The local etcd of the etcd driver: its start command's end as the record tells it (a signal by
 * its name), and settings that would not be read back as written refused before the file. */

static char dir[] = "/tmp/test-local-etcd.XXXXXX";
static char log_path[256], env_path[256];
static int saved_stderr = -1;

/* Runs start_command through local_etcd_restart(); its result, and what was logged in *ret_log. */
static int restart_with(char *const *argv, char **ret_log) {
        EtcdLocalConfig e = { .env_file = env_path, .unit = (char *) "etcd.service", .start_command = (char **) argv };
        size_t size;
        int fd, r;

        *ret_log = NULL;
        fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        fflush(stderr);
        dup2(fd, STDERR_FILENO);
        close(fd);
        r = local_etcd_restart(&e, "chainfire");
        fflush(stderr);
        dup2(saved_stderr, STDERR_FILENO);
        if (read_full_file(log_path, 1 << 20, ret_log, &size) < 0)
                *ret_log = strdup("");
        return r;
}

static void test_start_command(void) {
        char *const term[] = { (char *) "/bin/sh", (char *) "-c", (char *) "kill -TERM $$", NULL };
        char *const kill9[] = { (char *) "/bin/sh", (char *) "-c", (char *) "kill -KILL $$", NULL };
        char *const exit3[] = { (char *) "/bin/sh", (char *) "-c", (char *) "exit 3", NULL };
        char *const fine[] = { (char *) "/bin/true", NULL };
        char *const missing[] = { (char *) "/nonexistent/start-etcd", NULL };
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

        is_int(restart_with(term, &a), -EIO, "killed by SIGTERM: an error");
        ok(a && strstr(a, "killed by signal 15 (SIGTERM, Terminated)"), "the record names the signal");
        ok(a && !strstr(a, "Interrupted system call"), "and is no 'Interrupted system call'");
        ok(a && strstr(a, "services.chainfire.etcd.start_command"), "and the setting");

        is_int(restart_with(kill9, &b), -EIO, "killed by SIGKILL");
        ok(b && strstr(b, "killed by signal 9 (SIGKILL, Killed)"), "SIGKILL named");

        is_int(restart_with(exit3, &c), -EIO, "exit status 3: an error");
        ok(c && strstr(c, "exited with status 3"), "the status named");

        is_int(restart_with(fine, &d), 0, "exit status 0: started");
        ok(d && strstr(d, "the local etcd (re)started through /bin/true"), "the start recorded");

        is_int(restart_with(missing, &e), -ENOENT, "a command that is not there");
        ok(e && strstr(e, "Failed to run the start command of the local etcd '/nonexistent/start-etcd' (services."), "named");
}

static void test_configure_refuses(void) {
        EtcdLocalConfig e = { .env_file = env_path, .name = (char *) "node04" };
        _cleanup_free_ char *before = NULL, *after = NULL;
        int r;

        ok(write_file_atomic(env_path, "ETCD_DATA_DIR=/d\n", 17, 0644) >= 0, "env file");
        fflush(stderr);
        {
                int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

                dup2(fd, STDERR_FILENO);
                close(fd);
        }
        r = local_etcd_configure(&e, "e1=http://a:2380\nETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379", "http://b:2380");
        fflush(stderr);
        dup2(saved_stderr, STDERR_FILENO);
        is_int(r, -EINVAL, "a newline in the initial cluster: refused");
        (void) read_full_file(env_path, 4096, &after, NULL);
        is_str(after, "ETCD_DATA_DIR=/d\n", "nothing written");
        (void) read_full_file(log_path, 1 << 16, &before, NULL);
        ok(before && strstr(before, "ETCD_INITIAL_CLUSTER=\\\"e1=http://a:2380\\\\nETCD_LISTEN_CLIENT_URLS"),
           "the record names the key and shows the value escaped");
}

int main(void) {
        if (!mkdtemp(dir)) {
                ok(false, "temporary directory");
                return tap_done();
        }
        snprintf(log_path, sizeof log_path, "%s/log", dir);
        snprintf(env_path, sizeof env_path, "%s/etcd.env", dir);
        saved_stderr = dup(STDERR_FILENO);
        log_setup(LOG_TARGET_JSON);
        test_start_command();
        test_configure_refuses();
        unlink(log_path);
        unlink(env_path);
        rmdir(dir);
        return tap_done();
}
