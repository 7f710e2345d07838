/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "tap.h"

int main(void) {
        char dir[] = "/tmp/test-fileio-XXXXXX";
        _cleanup_free_ char *path = NULL, *data = NULL, *deep = NULL;
        size_t size;
        struct stat st;

        ok(mkdtemp(dir) != NULL, "temporary directory");
        path = path_join(dir, "file");
        is_str(path + strlen(dir), "/file", "path_join adds one slash");

        is_int(write_file_atomic(path, "hello", 5, 0600), 0, "atomic write");
        is_int(read_full_file(path, 100, &data, &size), 0, "read back");
        is_int(size, 5, "size");
        is_str(data, "hello", "content");
        ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
        is_int(check_file_private(path, NULL), 0, "0600 file is private");

        is_int(write_file_atomic(path, "bye", 3, 0644), 0, "atomic overwrite");
        mode_t m = 0;
        is_int(check_file_private(path, &m), -EPERM, "0644 file is refused");
        is_int(m, 0644, "mode found is reported");

        free(data);
        data = NULL;
        is_int(write_file_atomic_nosync(path, "unsynced", 8, 0640), 0, "atomic overwrite without fsync");
        is_int(read_full_file(path, 100, &data, &size), 0, "unsynced: read back");
        is_str(data, "unsynced", "unsynced: the new content");
        ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "unsynced: the mode asked for");
        chmod(dir, 0777);
        is_int(write_file_atomic_nosync(path, "x", 1, 0600), -EPERM, "unsynced: an open directory is refused too");
        chmod(dir, 0700);
        free(data);
        data = NULL;
        is_int(read_full_file(path, 2, &data, &size), -EFBIG, "max size enforced");
        is_int(read_full_file("/nonexistent/x", 10, &data, &size), -ENOENT, "missing file");

        deep = path_join(dir, "a/b/c");
        is_int(mkdir_p(deep, 0700), 0, "mkdir -p");
        ok(stat(deep, &st) == 0 && S_ISDIR(st.st_mode), "created");
        is_int(mkdir_p(deep, 0700), 0, "mkdir -p again is fine");

        /* Written only when the text changed; the directory made with its own mode. */
        _cleanup_free_ char *conf = path_join(dir, "etc/svc/config");
        is_int(write_file_if_changed(conf, "a: 1\n", 0750, 0600), 1, "if changed: a new file is written");
        ok(stat(conf, &st) == 0 && (st.st_mode & 0777) == 0600, "if changed: the file's mode");
        _cleanup_free_ char *confdir = path_join(dir, "etc/svc");
        ok(stat(confdir, &st) == 0 && (st.st_mode & 0777) == 0750, "if changed: the directory's mode");
        ok(stat(conf, &st) == 0, "if changed: stat before");
        ino_t ino = st.st_ino;
        is_int(write_file_if_changed(conf, "a: 1\n", 0750, 0600), 0, "if changed: the same text is not written");
        ok(stat(conf, &st) == 0 && st.st_ino == ino, "if changed: the same file (not replaced)");
        is_int(write_file_if_changed(conf, "a: 2\n", 0750, 0600), 1, "if changed: a new text is written");
        free(data);
        data = NULL;
        is_int(read_full_file(conf, 100, &data, NULL), 0, "if changed: read back");
        is_str(data, "a: 2\n", "if changed: the new text");
        chmod(confdir, 0777);
        is_int(write_file_if_changed(conf, "a: 3\n", 0750, 0600), -EPERM, "if changed: an open directory is refused");
        chmod(confdir, 0750);

        /* No temporary file is left behind. */
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        int extra = 0;
        while ((de = readdir(d)))
                if (strstr(de->d_name, ".tmp."))
                        extra++;
        is_int(extra, 0, "no temporary file left");

        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ok(system(cmd) == 0, "cleanup");
        return tap_done();
}
