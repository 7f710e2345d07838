/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-load.h"
#include "done-marker.h"
#include "fileio.h"
#include "marker.h"
#include "step.h"
#include "tap.h"

/* The done marker against the step markers: fresh while the directory is unchanged since a
 * stamp that is not racy; re-checked (and removed when a step marker is gone) otherwise; never
 * believed in a directory others may write to. The cases run on tmpfs and on ext4 (with
 * nanosecond times, 256-byte inodes, and with whole seconds, 128-byte inodes): the file
 * systems whose times a done node's state directory gets. */

#define CONFIG                                                                  \
        "{\"node_id\": \"node04\", \"node_role\": \"control-plane\", "          \
        "\"bootstrap\": false, \"cluster_name\": \"prod\", "                    \
        "\"leader_url\": \"https://10.0.1.10:2379\", "                          \
        "\"raft_addr\": \"10.0.1.13:2380\", \"tls\": {\"enabled\": true}, "     \
        "\"services\": {\"iam\": {\"enabled\": false}}}"

#define TMPFS_MAGIC 0x01021994
#define EXT4_MAGIC 0xEF53
#define NOBODY 65534

/* done_marker_verify(), with what *missing held freed first. */
static int verify(const char *dir, const Config *c, char **missing) {
        *missing = mfree(*missing);
        return done_marker_verify(dir, c, missing);
}

static const char *const markers[] = { ".chainfire-joined", ".flaredb-joined", ".health-reported", NULL };
static const Config *config;

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Moves the directory's mtime 10 s into the past, as if its last change were long ago: a stamp
 * made now is then trusted whatever the clock's tick and the file system's granularity. */
static int age_dir(const char *dir) {
        struct timespec t[2] = { { .tv_nsec = UTIME_OMIT } };

        clock_gettime(CLOCK_REALTIME, &t[1]);
        t[1].tv_sec -= 10;
        return utimensat(AT_FDCWD, dir, t, 0);
}

static struct stat times(time_t mtime_s, long mtime_ns, time_t ctime_s, long ctime_ns) {
        return (struct stat) { .st_mtim = { mtime_s, mtime_ns }, .st_ctim = { ctime_s, ctime_ns } };
}

/* The rule alone, on made-up times. */
static void test_rule(void) {
        struct stat d = times(1000, 500000000, 0, 0), m;
        struct timespec tick;

        ok(clock_getres(CLOCK_REALTIME_COARSE, &tick) == 0, "the coarse clock's tick: %ld ns", tick.tv_nsec);

        m = times(1000, 500000000, 1000, 500000000);
        ok(!done_marker_stamp_trusted(&d, &m), "stamped in the same instant as the change: racy, not trusted");
        m = times(1000, 500000000, 1000, 500000000 + tick.tv_nsec);
        ok(!done_marker_stamp_trusted(&d, &m), "stamped exactly one tick later: not trusted (more than a tick needed)");
        m = times(1000, 500000000, 1000, 500000001 + tick.tv_nsec);
        ok(done_marker_stamp_trusted(&d, &m), "stamped more than a tick later: trusted");
        m = times(1000, 500000001, 1010, 0);
        ok(!done_marker_stamp_trusted(&d, &m), "the times differ (the directory changed): not trusted");
        m = times(1000, 500000000, 999, 0);
        ok(!done_marker_stamp_trusted(&d, &m), "stamped before the change (a clock set back): not trusted");

        d = times(1000, 0, 0, 0);
        m = times(1000, 0, 1002, 0);
        ok(!done_marker_stamp_trusted(&d, &m), "whole seconds (a file system keeping no more): 2 s apart is not enough");
        m = times(1000, 0, 1003, 0);
        ok(done_marker_stamp_trusted(&d, &m), "whole seconds: 3 s apart is");
}

static int write_all_markers(const char *dir) {
        for (const char *const *m = markers; *m; m++)
                if (marker_write(dir, *m) < 0)
                        return -1;
        return 0;
}

/* The cases, in a new directory under base (on file system fs). */
static void test_on(const char *base, const char *fs, bool timing) {
        _cleanup_free_ char *dir = path_join(base, "state-XXXXXX"), *done = NULL, *cmd = NULL;
        char *missing = NULL;
        int bad = 0, fresh;

        if (!dir || !mkdtemp(dir)) {
                ok(false, "%s: a directory under %s", fs, base);
                return;
        }
        done = path_join(dir, MARKER_DONE);

        is_int(done_marker_fresh(dir), 0, "%s: no done marker: not fresh", fs);
        is_int(verify(dir, config, &missing), 0, "%s: no done marker: verify says not done", fs);
        ok(!missing, "%s: … and names no missing marker", fs);

        ok(write_all_markers(dir) == 0, "%s: write the step markers", fs);
        ok(marker_write(dir, MARKER_DONE) == 0, "%s: write the done marker", fs);
        ok(marker_write(dir, "state.json") == 0, "%s: a file written after it (as the state file is)", fs);
        is_int(done_marker_fresh(dir), 0, "%s: the directory changed after the done marker: not fresh", fs);
        ok(age_dir(dir) == 0, "%s: (the last change was long ago)", fs);
        is_int(verify(dir, config, &missing), 1,
               "%s: verify: every enabled step's marker is there (iam's is not needed: disabled)", fs);
        is_int(done_marker_fresh(dir), 1, "%s: verify stamped it: fresh", fs);
        is_int(done_marker_fresh(dir), 1, "%s: and stays fresh while nothing changes", fs);

        ok(marker_remove(dir, ".flaredb-joined") == 1, "%s: a person removes .flaredb-joined", fs);
        is_int(done_marker_fresh(dir), 0, "%s: the directory's mtime moved: not fresh", fs);
        is_int(verify(dir, config, &missing), 0, "%s: verify: not done", fs);
        is_str(missing, ".flaredb-joined", "%s: verify names the missing marker", fs);
        is_int(marker_exists(dir, MARKER_DONE), 0, "%s: the stale done marker was removed", fs);

        ok(marker_write(dir, ".flaredb-joined") == 0 && marker_write(dir, MARKER_DONE) == 0,
           "%s: the walk writes the marker and the done marker again", fs);
        ok(age_dir(dir) == 0, "%s: (long ago)", fs);
        is_int(done_marker_stamp(dir), 0, "%s: stamp after the walk", fs);
        is_int(done_marker_fresh(dir), 1, "%s: fresh at once, no re-check needed", fs);

        ok(marker_remove(dir, "state.json") == 1, "%s: an unrelated entry changes", fs);
        is_int(done_marker_fresh(dir), 0, "%s: any entry change asks for a re-check", fs);
        ok(age_dir(dir) == 0, "%s: (long ago)", fs);
        is_int(verify(dir, config, &missing), 1, "%s: which finds every marker and stamps again", fs);
        is_int(done_marker_fresh(dir), 1, "%s: fresh again", fs);

        /* The race: a marker removed right after the stamp, in the same tick of the file-time
         * clock as the change the stamp recorded, leaves the directory's time as it was. The
         * stamp is then racy and not trusted; a later one is, and the removal moved the time. */
        for (int i = 0; i < 200; i++) {
                if (marker_write(dir, ".flaredb-joined") < 0 || marker_write(dir, MARKER_DONE) < 0 ||
                    done_marker_stamp(dir) < 0 || marker_remove(dir, ".flaredb-joined") != 1) {
                        bad = -1;
                        break;
                }
                if (done_marker_fresh(dir) != 0)
                        bad++;
        }
        is_int(bad, 0, "%s: stamp, then a marker removed at once (200 times): never fresh", fs);
        ok(marker_write(dir, ".flaredb-joined") == 0 && marker_write(dir, MARKER_DONE) == 0 &&
           done_marker_stamp(dir) == 0, "%s: the walk completes and stamps at once", fs);
        fresh = done_marker_fresh(dir);
        {
                struct stat d;

                /* The stamp waits out the tick where times have nanoseconds; a file system that
                 * keeps whole seconds leaves it to the next start's check. */
                if (stat(dir, &d) == 0 && d.st_mtim.tv_nsec != 0)
                        is_int(fresh, 1, "%s: a stamp made right after the last write waited out the tick: "
                               "trusted, the next start takes the fast path", fs);
                else
                        printf("# %s: a stamp made right after the last write (whole seconds): %s\n", fs,
                               fresh == 0 ? "racy, the next start checks the markers once" :
                               fresh == 1 ? "trusted (the write was seconds before)" : strerror(-fresh));
        }
        ok(age_dir(dir) == 0, "%s: (long ago)", fs);
        is_int(done_marker_fresh(dir), 0, "%s: the directory's time differs from the stamp's: not fresh", fs);
        is_int(verify(dir, config, &missing), 1, "%s: the next start verifies and stamps again", fs);
        is_int(done_marker_fresh(dir), 1, "%s: which is trusted", fs);

        /* Whose directory and whose marker. */
        ok(chmod(dir, 0777) == 0, "%s: the state directory made 0777", fs);
        is_int(done_marker_fresh(dir), -EPERM, "%s: a directory others may write to: the marker is not believed", fs);
        is_int(verify(dir, config, &missing), -EPERM, "%s: nor by verify", fs);
        ok(chmod(dir, 0720) == 0, "%s: group-writable (0720)", fs);
        is_int(done_marker_fresh(dir), -EPERM, "%s: group-writable: not believed either", fs);
        ok(chmod(dir, 0700) == 0, "%s: back to 0700", fs);
        is_int(done_marker_fresh(dir), 1, "%s: believed again", fs);
        if (geteuid() == 0) {
                ok(chown(dir, NOBODY, NOBODY) == 0, "%s: the directory given to nobody (uid %d), mode 0700", fs, NOBODY);
                is_int(done_marker_fresh(dir), -EPERM, "%s: another user's directory: not believed", fs);
                ok(chown(dir, 0, 0) == 0 && lchown(done, NOBODY, NOBODY) == 0, "%s: the marker given to nobody", fs);
                is_int(done_marker_fresh(dir), -EPERM, "%s: another user's marker in root's directory: not believed", fs);
                ok(lchown(done, 0, 0) == 0, "%s: the marker back to root", fs);
        } else {
                skip("%s: ownership by another user (chown needs root)", fs);
                skip("%s: ownership by another user (chown needs root)", fs);
        }
        ok(unlink(done) == 0 && symlinkat(".health-reported", AT_FDCWD, done) == 0,
           "%s: the done marker replaced by a symlink to a marker", fs);
        is_int(done_marker_fresh(dir), -EPERM, "%s: a symlink is no marker", fs);

        if (timing) {
                /* What the every-boot path costs (printed, not asserted). */
                const int n = 100000;
                uint64_t t0;

                ok(unlink(done) == 0 && marker_write(dir, MARKER_DONE) == 0 && age_dir(dir) == 0 &&
                   done_marker_stamp(dir) == 0, "%s: a trusted stamp again", fs);
                t0 = now_ns();
                fresh = 0;
                for (int i = 0; i < n; i++)
                        fresh += done_marker_fresh(dir);
                uint64_t per = (now_ns() - t0) / (uint64_t) n;
                is_int(fresh, n, "%s: fresh on every call of the loop", fs);
                printf("# done_marker_fresh(): %llu ns per call (a stat() and an lstat(); %d calls)\n",
                       (unsigned long long) per, n);
                t0 = now_ns();
                for (int i = 0; i < n / 10; i++)
                        (void) verify(dir, config, &missing);
                printf("# done_marker_verify(): %llu ns per call (every marker, and the stamp)\n",
                       (unsigned long long) ((now_ns() - t0) / (uint64_t) (n / 10)));
        }

        if (asprintf(&cmd, "rm -rf '%s'", dir) >= 0)
                (void) !system(cmd);
}

static bool is_fs(const char *path, long magic) {
        struct statfs sf;

        return statfs(path, &sf) == 0 && sf.f_type == magic;
}

/* As root: a private mount namespace (the mounts go away with this process), a tmpfs and two
 * ext4 file systems on loop devices. */
static void test_file_systems(const char *top) {
        _cleanup_free_ char *tmpfs = path_join(top, "tmpfs"), *img = path_join(top, "ext4.img"),
                            *mnt = path_join(top, "ext4"), *cmd = NULL;
        static const struct { const char *inode_size, *what; } ext4[] = {
                { "256", "ext4 (256-byte inodes: ns times)" },
                { "128", "ext4 (128-byte inodes: whole seconds)" },
        };

        if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                if (is_fs("/dev/shm", TMPFS_MAGIC))
                        test_on("/dev/shm", "tmpfs", true);
                else
                        skip("tmpfs: not root (CAP_SYS_ADMIN to mount one) and /dev/shm is no tmpfs");
                skip("ext4: mounting one on a loop device needs root (CAP_SYS_ADMIN)");
                return;
        }

        ok(mkdir(tmpfs, 0755) == 0 && mount("tmpfs", tmpfs, "tmpfs", 0, "mode=0755") == 0 &&
           is_fs(tmpfs, TMPFS_MAGIC), "a tmpfs mounted");
        test_on(tmpfs, "tmpfs", true);

        if (system("command -v mkfs.ext4 >/dev/null 2>&1") != 0) {
                skip("ext4: no mkfs.ext4 (e2fsprogs)");
                return;
        }
        for (size_t i = 0; i < sizeof(ext4) / sizeof(ext4[0]); i++) {
                free(cmd);
                cmd = NULL;
                if (asprintf(&cmd, "rm -f '%1$s' && truncate -s 32M '%1$s' && mkfs.ext4 -q -F -I %2$s '%1$s' >/dev/null 2>&1 && "
                             "mkdir -p '%3$s' && mount -o loop '%1$s' '%3$s'",
                             img, ext4[i].inode_size, mnt) < 0)
                        return;
                fflush(stdout);
                if (system(cmd) != 0) {
                        skip("%s: mkfs.ext4 or mount -o loop failed (no loop device?)", ext4[i].what);
                        continue;
                }
                ok(is_fs(mnt, EXT4_MAGIC), "%s mounted", ext4[i].what);
                test_on(mnt, ext4[i].what, false);
                ok(umount(mnt) == 0, "%s unmounted", ext4[i].what);
        }
        (void) unlink(img);
        ok(umount(tmpfs) == 0, "the tmpfs unmounted");
}

int main(void) {
        char top[] = "/tmp/test-done-marker-XXXXXX";
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *cmd = NULL;
        ProblemList l = {};

        ok(mkdtemp(top) != NULL, "temporary directory");
        is_int(config_parse(CONFIG, strlen(CONFIG), "test.json", &c, &l), 0, "config (iam disabled)");
        problem_list_done(&l);
        if (!c)
                return tap_done();
        config = c;

        test_rule();
        test_file_systems(top);

        if (asprintf(&cmd, "rm -rf '%s'", top) >= 0)
                (void) !system(cmd);
        return tap_done();
}
