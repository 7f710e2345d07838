/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "report-spool.h"
#include "string-util.h"
#include "strv.h"

/* "01764501234567890123-firstboot-done.json": the time in µs, zero-padded, and the event. */
static bool spool_name(const char *name, usec_t *ret_time, const char **ret_event) {
        char digits[21];
        uint64_t t;

        if (strlen(name) < 22 || name[20] != '-' || !endswith(name, ".json"))
                return false;
        memcpy(digits, name, 20);
        digits[20] = '\0';
        if (parse_uint64(digits, &t) < 0)
                return false;
        if (ret_time)
                *ret_time = t;
        if (ret_event)
                *ret_event = name + 21;
        return true;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int report_spool_list(const char *dir, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (!l)
                return -ENOMEM;
        d = opendir(dir);
        if (!d && errno != ENOENT)
                return -errno;
        while (d && (de = readdir(d))) {
                char *p;

                if (!spool_name(de->d_name, NULL, NULL))
                        continue;
                p = path_join(dir, de->d_name);
                if (!p || strv_push(&l, p) < 0) {
                        free(p);
                        return -ENOMEM;
                }
        }
        qsort(l, strv_length(l), sizeof(char *), compare_strings);
        *ret = TAKE_PTR(l);
        return 0;
}

int report_spool_prune(const char *dir) {
        _cleanup_strv_free_ char **l = NULL;
        usec_t now = now_realtime();
        size_t n;
        int r, dropped = 0;

        r = report_spool_list(dir, &l);
        if (r < 0)
                return r;
        n = strv_length(l);
        for (size_t i = 0; i < n; i++) {
                usec_t t = 0;

                (void) spool_name(strrchr(l[i], '/') + 1, &t, NULL);
                if (n - i > REPORT_SPOOL_MAX || (now > t && now - t > REPORT_SPOOL_MAX_AGE)) {
                        if (unlink(l[i]) >= 0)
                                dropped++;
                }
        }
        return dropped;
}

int report_spool_add(const char *dir, const char *event, const char *body, unsigned *ret_dropped) {
        _cleanup_free_ char *path = NULL;
        usec_t now = now_realtime();
        int r;

        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        /* Two reports of one microsecond cannot be: the walk makes them one after the other. */
        if (asprintf(&path, "%s/%020" PRIu64 "-%s.json", dir, now, event) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        r = write_file_atomic(path, body, strlen(body), 0600);
        if (r < 0)
                return r;
        r = report_spool_prune(dir);
        if (ret_dropped)
                *ret_dropped = r > 0 ? (unsigned) r : 0;
        return 0;
}

int report_spool_pending(const char *dir, size_t *ret_n, char **ret_oldest_event, usec_t *ret_oldest_time) {
        _cleanup_strv_free_ char **l = NULL;
        const char *event = NULL;
        usec_t t = 0;
        int r;

        r = report_spool_list(dir, &l);
        if (r < 0)
                return r;
        if (l[0])
                (void) spool_name(strrchr(l[0], '/') + 1, &t, &event);
        if (ret_oldest_event) {
                *ret_oldest_event = NULL;
                if (event) {
                        *ret_oldest_event = strndup(event, strlen(event) - strlen(".json"));
                        if (!*ret_oldest_event)
                                return -ENOMEM;
                }
        }
        if (ret_n)
                *ret_n = strv_length(l);
        if (ret_oldest_time)
                *ret_oldest_time = t;
        return 0;
}
