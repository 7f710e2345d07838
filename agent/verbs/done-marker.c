/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cleanup.h"
#include "dir-trust.h"
#include "done-marker.h"
#include "fileio.h"
#include "marker.h"
#include "step.h"

static bool same_time(const struct timespec *a, const struct timespec *b) {
        return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int64_t timespec_ns(const struct timespec *t) {
        return (int64_t) t->tv_sec * 1000000000 + t->tv_nsec;
}

/* How far apart two changes must be for their file times to differ. The kernel takes a file's
 * times from the coarse real-time clock (current_time(): the time of the last tick, whatever
 * the real time within it; since 6.13 a fine-grained time only when the old one was looked at,
 * and never below the coarse one), then cuts them to the file system's granularity (1 ns on
 * tmpfs, ext4 with 256-byte inodes, xfs, btrfs; 1 s on ext4 with 128-byte inodes and ext3; 2 s
 * for a FAT mtime). The tick is what clock_getres(CLOCK_REALTIME_COARSE) reports; the file
 * system's part is not shown anywhere, so times that both end in whole seconds are taken to come
 * from one that keeps no more (a bound of 2 s), the rare pair of exact seconds on a finer one
 * only costing one full check. */
static int64_t granularity_ns(const struct timespec *a, const struct timespec *b) {
        static int64_t tick;
        struct timespec res;

        if (a->tv_nsec == 0 && b->tv_nsec == 0)
                return 2 * (int64_t) 1000000000;
        if (tick == 0)
                tick = clock_getres(CLOCK_REALTIME_COARSE, &res) == 0 && timespec_ns(&res) > 0
                               ? timespec_ns(&res) : 10000000;   /* HZ=100, the coarsest */
        return tick;
}

/* The stamp is trusted only when it was made more than the granularity after the directory
 * last changed (git's rule for "racily clean" index entries): a marker removed in the same tick
 * as the change the stamp recorded leaves the directory's time as it was, and would go unseen.
 * Made later, any change after it gets a later time. When the stamp was made is its ctime:
 * utimensat() sets it to the time of the call, and nobody can set it back. */
bool done_marker_stamp_trusted(const struct stat *d, const struct stat *m) {
        return same_time(&d->st_mtim, &m->st_mtim) &&
               timespec_ns(&m->st_ctim) - timespec_ns(&d->st_mtim) > granularity_ns(&d->st_mtim, &m->st_ctim);
}

int done_marker_fresh(const char *dir) {
        _cleanup_free_ char *path = path_join(dir, MARKER_DONE);
        struct stat d, m;

        if (!path)
                return -ENOMEM;
        if (lstat(path, &m) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (stat(dir, &d) < 0)
                return -errno;
        /* What the two calls gave anyway: who may have put the marker there. */
        if (!dir_trust_stat_ok(&d) || !S_ISREG(m.st_mode) || !dir_trust_entry_ok(&m))
                return -EPERM;
        return done_marker_stamp_trusted(&d, &m);
}

/* Waits until a stamp made now counts: the coarse clock (which a ctime never falls behind) past
 * the directory's mtime by more than the granularity — a tick or two, so that the next start
 * takes the fast path at once. Not on a file system keeping whole seconds (the mtime ends in
 * .000000000): its 2 s are left to the next start's full check. Bounded, for a directory time
 * in the future. */
static void wait_out_granularity(const struct timespec *mtime) {
        int64_t until, now;
        struct timespec t;

        if (mtime->tv_nsec == 0)
                return;
        until = timespec_ns(mtime) + granularity_ns(mtime, mtime);
        for (int i = 0; i < 4; i++) {
                if (clock_gettime(CLOCK_REALTIME_COARSE, &t) < 0)
                        return;
                now = timespec_ns(&t);
                if (now > until || until - now > 100000000)     /* done, or > 0.1 s: a clock off */
                        return;
                (void) nanosleep(&(struct timespec) { .tv_nsec = (long) (until - now) + 1000000 }, NULL);
        }
}

int done_marker_stamp(const char *dir) {
        _cleanup_close_ int fd = -1;
        struct stat d;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &d) < 0)
                return -errno;
        wait_out_granularity(&d.st_mtim);
        /* Changing a file's times leaves the directory's mtime alone. */
        if (utimensat(fd, MARKER_DONE, (const struct timespec[2]) { { .tv_nsec = UTIME_OMIT }, d.st_mtim },
                      AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

int done_marker_verify(const char *dir, const Config *c, char **ret_missing) {
        _cleanup_(step_plan_freep) StepPlan *plan = NULL;
        int r;

        *ret_missing = NULL;
        r = dir_trust_check(dir, NULL, NULL);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        r = marker_exists(dir, MARKER_DONE);
        if (r <= 0)
                return r;

        r = step_plan_new(c, &plan);
        if (r < 0)
                return r;
        for (size_t i = 0; i < plan->n; i++) {
                const Step *s = &plan->steps[i];
                const char *m;

                if (step_skip_reason(s, c))
                        continue;
                m = step_marker(s, c);
                if (!m)
                        continue;
                r = marker_exists(dir, m);
                if (r < 0)
                        return r;
                if (r == 0) {
                        r = marker_remove(dir, MARKER_DONE);
                        if (r < 0)
                                return r;
                        *ret_missing = strdup(m);
                        return *ret_missing ? 0 : -ENOMEM;
                }
        }

        r = done_marker_stamp(dir);
        return r < 0 ? r : 1;
}
