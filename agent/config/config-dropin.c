/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-dropin.h"
#include "config-file.h"
#include "dir-trust.h"
#include "fileio.h"
#include "json-util.h"
#include "macro.h"
#include "string-util.h"
#include "strv.h"

const char *const config_dropin_dirs[] = {
        "/etc/first-boot-agent/cluster-config.d",
        "/run/first-boot-agent/cluster-config.d",
        "/usr/lib/first-boot-agent/cluster-config.d",
        NULL
};

typedef struct Origin {
        char *path;             /* JSON path, as json_path_key() writes it */
        const char *file;       /* one of ConfigOrigins.files */
} Origin;

struct ConfigOrigins {
        Origin *items;
        size_t n;
        char **files;
};

ConfigOrigins *config_origins_free(ConfigOrigins *o) {
        if (!o)
                return NULL;
        for (size_t i = 0; i < o->n; i++)
                free(o->items[i].path);
        free(o->items);
        strv_free(o->files);
        free(o);
        return NULL;
}

/* True when path is prefix itself or lies below it (".a" covers ".a.b" and ".a[0]", not ".ab").
 * The root "." covers everything. */
static bool path_covers(const char *prefix, const char *path) {
        size_t n = strlen(prefix);

        if (streq(prefix, "."))
                return true;
        return strncmp(prefix, path, n) == 0 && (path[n] == '\0' || path[n] == '.' || path[n] == '[');
}

/* path was set by file: what an earlier fragment set at or below it no longer counts. */
static int origins_set(ConfigOrigins *o, const char *path, const char *file) {
        size_t m = 0;
        Origin *items;

        for (size_t i = 0; i < o->n; i++) {
                if (path_covers(path, o->items[i].path))
                        free(o->items[i].path);
                else
                        o->items[m++] = o->items[i];
        }
        o->n = m;

        items = reallocarray(o->items, o->n + 1, sizeof(Origin));
        if (!items)
                return -ENOMEM;
        o->items = items;
        o->items[o->n].path = strdup(path);
        if (!o->items[o->n].path)
                return -ENOMEM;
        o->items[o->n++].file = file;
        return 0;
}

int config_origins_attribute(const ConfigOrigins *o, ProblemList *problems, size_t from) {
        for (size_t i = from; o && i < problems->n; i++) {
                Problem *p = &problems->items[i];
                const Origin *best = NULL;

                if (p->file)
                        continue;
                for (size_t k = 0; k < o->n; k++)
                        if (path_covers(o->items[k].path, p->path && p->path[0] ? p->path : ".") &&
                            (!best || strlen(o->items[k].path) > strlen(best->path)))
                                best = &o->items[k];
                if (best && problem_set_file(p, best->file) < 0)
                        return -ENOMEM;
        }
        return 0;
}

char *config_dropin_dir_beside(const char *main_path) {
        size_t n = strlen(main_path);
        char *d;

        if (endswith(main_path, ".json") && n > strlen(".json"))
                n -= strlen(".json");
        if (asprintf(&d, "%.*s.d", (int) n, main_path) < 0)
                return NULL;
        return d;
}

static int compare_names(const void *a, const void *b) {
        const char *x = strrchr(*(char *const *) a, '/'), *y = strrchr(*(char *const *) b, '/');

        return strcmp(x ? x + 1 : *(char *const *) a, y ? y + 1 : *(char *const *) b);
}

static bool name_taken(char *const *found, const char *name) {
        STRV_FOREACH(f, found) {
                const char *base = strrchr(*f, '/');

                if (streq(base ? base + 1 : *f, name))
                        return true;
        }
        return false;
}

/* Adds a problem about path (a drop-in directory or one of its entries), with its file set. */
static int add_problem(ProblemList *problems, const char *path, const char *expected, const char *hint,
                       const char *found_format, ...) _printf_(5, 6);
static int add_problem(ProblemList *problems, const char *path, const char *expected, const char *hint,
                       const char *found_format, ...) {
        va_list ap;
        int r;

        /* A file name is the one text here nobody checked: problem_addv() keeps it printable. */
        va_start(ap, found_format);
        r = problem_addv(problems, "", expected, hint, found_format, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return problem_set_file(&problems->items[problems->n - 1], path) < 0 ? -ENOMEM : -EINVAL;
}

/* "run: COMMAND PATH", for a hint. */
static char *run_hint(const char *command, const char *path) {
        char *h;

        if (asprintf(&h, "run: %s %s", command, path) < 0)
                return NULL;
        return string_make_printable(h);
}

static int dir_problem(ProblemList *problems, const char *dir, const struct stat *st) {
        _cleanup_free_ char *hint = NULL;

        if (asprintf(&hint, "whoever may write to it could add a fragment or mask one; run: chown root: %s && "
                     "chmod go-w %s", dir, dir) < 0) {
                hint = NULL;
                return -ENOMEM;
        }
        string_make_printable(hint);
        return add_problem(problems, dir, "a drop-in directory owned by root (or by the user running this) "
                           "that group and others cannot write to", hint, "owner uid %u, mode %04o",
                           (unsigned) st->st_uid, (unsigned) (st->st_mode & 07777));
}

/* Opens dir when it is trusted (dir-trust.h): the descriptor; -ENOENT when there is no such
 * directory; -EINVAL after adding the problem; -ENOMEM. */
static int open_dir(const char *dir, ProblemList *problems) {
        struct stat st = {};
        int fd;

        fd = dir_trust_open(dir, &st);
        if (fd >= 0 || fd == -ENOENT)
                return fd;
        if (fd == -ENOTDIR)
                return -ENOENT;
        if (fd == -EPERM)
                /* Refused, never skipped: a fragment or a mask in it could be anybody's, and
                 * leaving the directory out would drop what its owner meant to set. */
                return dir_problem(problems, dir, &st);
        return add_problem(problems, dir, "a readable drop-in directory", NULL, "the error \"%s\"",
                           strerror(-fd));
}

/* The checks every entry gets, mask or fragment: owned by root or the caller, not writable by
 * group or others. 0, or -EINVAL after adding the problem. */
static int check_entry(const char *path, const struct stat *st, ProblemList *problems) {
        _cleanup_free_ char *hint = NULL;

        if (st->st_uid != 0 && st->st_uid != geteuid()) {
                hint = run_hint("chown root:", path);
                if (!hint)
                        return -ENOMEM;
                return add_problem(problems, path, "a drop-in owned by root or by the user running this", hint,
                                   "owner uid %u", (unsigned) st->st_uid);
        }
        if (!dir_trust_entry_ok(st)) {
                hint = run_hint("chmod go-w", path);
                if (!hint)
                        return -ENOMEM;
                return add_problem(problems, path, "a drop-in that group and others cannot write to", hint,
                                   "mode %04o", (unsigned) (st->st_mode & 07777));
        }
        return 0;
}

/* What an entry of a trusted drop-in directory is, looked at without following it: 1 for a mask
 * (an empty regular file, a symlink whose target is the text "/dev/null", the /dev/null device
 * itself), 0 for anything else (a fragment, checked when it is read), -EINVAL after adding the
 * problem for a mask that fails check_entry(). */
static int classify(int dfd, const char *dir, const char *name, ProblemList *problems) {
        _cleanup_free_ char *path = path_join(dir, name);
        char target[sizeof("/dev/null")];
        struct stat st;
        ssize_t n;

        if (!path)
                return -ENOMEM;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;       /* gone: reading it says so */
        if (S_ISLNK(st.st_mode)) {
                /* Only the link's own text counts: the link is not followed, so nothing another
                 * user controls (a directory on the way to a target) decides what it is. */
                n = readlinkat(dfd, name, target, sizeof(target));
                if (n != (ssize_t) strlen("/dev/null") || memcmp(target, "/dev/null", (size_t) n) != 0)
                        return 0;
        } else if (S_ISCHR(st.st_mode)) {
                if (st.st_rdev != makedev(1, 3))
                        return 0;
                /* /dev/null is 0666 by nature: writing to it changes nothing. */
                if (st.st_uid == 0 || st.st_uid == geteuid())
                        return 1;
        } else if (!S_ISREG(st.st_mode) || st.st_size != 0)
                return 0;
        return check_entry(path, &st, problems) < 0 ? -EINVAL : 1;
}

/* Adds the fragments of dir whose names were not taken by a directory before it to found, and
 * its masks, which hide the fragments of the same name below, to masks. */
static int find_in_dir(const char *dir, char ***found, char ***masks, ProblemList *problems) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **here = NULL;
        _cleanup_close_ int dfd = -1;
        struct dirent *de;
        bool failed = false;
        int r;

        dfd = open_dir(dir, problems);
        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0)
                return dfd;
        d = fdopendir(dfd);
        if (!d)
                return add_problem(problems, dir, "a readable drop-in directory", NULL, "the error \"%s\"",
                                   strerror(errno));
        dfd = -1;       /* closedir() closes it */

        while ((errno = 0, de = readdir(d))) {
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".json"))
                        continue;
                if (name_taken(*found, de->d_name) || name_taken(*masks, de->d_name) ||
                    name_taken(here, de->d_name))
                        continue;
                r = classify(dirfd(d), dir, de->d_name, problems);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        failed = true;
                        continue;
                }
                char *p = path_join(dir, de->d_name);
                if (!p || strv_push(r > 0 ? masks : &here, p) < 0) {
                        free(p);
                        return -ENOMEM;
                }
        }
        if (failed)
                return -EINVAL;
        STRV_FOREACH(h, here)
                if (strv_extend(found, *h) < 0)
                        return -ENOMEM;
        return 0;
}

int config_dropin_find(const char *main_path, const char *const *dirs, char ***ret,
                       ProblemList *problems) {
        _cleanup_strv_free_ char **found = NULL, **masks = NULL, **seen = NULL;
        _cleanup_free_ char *beside = config_dropin_dir_beside(main_path);
        bool failed = false;
        int r;

        if (!beside || strv_extend(&seen, beside) < 0)
                return -ENOMEM;
        for (const char *const *d = dirs; d && *d; d++)
                if (!strv_contains(seen, *d) && strv_extend(&seen, *d) < 0)
                        return -ENOMEM;

        STRV_FOREACH(d, seen) {
                r = find_in_dir(*d, &found, &masks, problems);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        failed = true;
        }
        if (failed)
                return -EINVAL;

        if (!found) {
                found = calloc(1, sizeof(char *));
                if (!found)
                        return -ENOMEM;
        }
        qsort(found, strv_length(found), sizeof(char *), compare_names);
        *ret = TAKE_PTR(found);
        return 0;
}

/* RFC 7396 over one object, recording what file set. */
static int merge_object(json_t *target, json_t *patch, const char *path, const char *file,
                        ConfigOrigins *o) {
        const char *key;
        json_t *value;
        int r;

        json_object_foreach(patch, key, value) {
                _cleanup_free_ char *p = json_path_key(path, key);
                json_t *cur = json_object_get(target, key);

                if (!p)
                        return -ENOMEM;
                if (json_is_object(value)) {
                        if (!json_is_object(cur)) {
                                json_t *fresh = json_object();

                                if (!fresh || json_object_set_new(target, key, fresh) < 0)
                                        return -ENOMEM;
                                cur = fresh;
                                r = origins_set(o, p, file);
                                if (r < 0)
                                        return r;
                        }
                        r = merge_object(cur, value, p, file, o);
                } else {
                        if (json_is_null(value))
                                (void) json_object_del(target, key);
                        else if (json_object_set(target, key, value) < 0)
                                return -ENOMEM;
                        r = origins_set(o, p, file);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Opens the fragment path (DIR/NAME) for reading: DIR trusted, NAME a regular file (not
 * followed when a symlink) that passes check_entry() and is private (mode 0600), at most
 * CONFIG_MAX_SIZE. The descriptor, or -EINVAL after adding the problem. */
static int open_fragment(const char *path, ProblemList *problems) {
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_close_ int dfd = -1, fd = -1;
        const char *name = strrchr(path, '/');
        char target[PATH_MAX];
        struct stat st;
        ssize_t n;
        int r;

        if (!dir)
                return -ENOMEM;
        if (!name)
                return -EINVAL;
        name++;
        dir[name - path - 1] = '\0';
        dfd = open_dir(dir[0] ? dir : "/", problems);
        if (dfd == -ENOENT)
                return add_problem(problems, path, "an existing file", NULL, "no directory %s", dir);
        if (dfd < 0)
                return dfd;

        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 && errno == ELOOP) {
                n = readlinkat(dfd, name, target, sizeof(target) - 1);
                target[MAX(n, (ssize_t) 0)] = '\0';
                return add_problem(problems, path, "a regular file (drop-ins are not followed through symlinks; "
                                   "a symlink to /dev/null masks)",
                                   "copy the file in place of the link: whoever may change the target, or a "
                                   "directory on the way to it, could otherwise change the configuration",
                                   "a symlink to %s", target);
        }
        if (fd < 0)
                return add_problem(problems, path, "a readable file", NULL, "the error \"%s\"", strerror(errno));
        if (fstat(fd, &st) < 0)
                return add_problem(problems, path, "a readable file", NULL, "the error \"%s\"", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return add_problem(problems, path, "a regular file", NULL, "a file of type %s",
                                   S_ISDIR(st.st_mode) ? "directory" : S_ISCHR(st.st_mode) ? "character device" :
                                   S_ISBLK(st.st_mode) ? "block device" : S_ISFIFO(st.st_mode) ? "fifo" :
                                   S_ISSOCK(st.st_mode) ? "socket" : "unknown");
        r = check_entry(path, &st, problems);
        if (r < 0)
                return r;
        if (st.st_mode & 077) {
                _cleanup_free_ char *hint = run_hint("chmod 600", path);

                if (!hint)
                        return -ENOMEM;
                return add_problem(problems, path, "a file that only its owner can read or write (mode 0600)",
                                   hint, "mode %04o", (unsigned) (st.st_mode & 07777));
        }
        if (st.st_size > CONFIG_MAX_SIZE)
                return add_problem(problems, path, "a file of at most 1 MiB", NULL, "a larger file");
        /* O_NONBLOCK was for opening only (a FIFO put there must not hang the boot). */
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* Reads one fragment; problems carry its path. Returns 0 with *ret, -EINVAL, -ENOMEM. */
static int read_fragment(const char *path, json_t **ret, ProblemList *problems) {
        _cleanup_json_ json_t *v = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        size_t before = problems->n, size;
        json_error_t err;
        int r;

        fd = open_fragment(path, problems);
        if (fd < 0)
                return fd;
        r = read_full_fd(fd, CONFIG_MAX_SIZE, &text, &size);
        if (r == -ENOMEM)
                return r;
        if (r == -EFBIG)
                return add_problem(problems, path, "a file of at most 1 MiB", NULL, "a larger file");
        if (r < 0)
                return add_problem(problems, path, "a readable file", NULL, "the error \"%s\"", strerror(-r));
        v = json_loadb(text, size, JSON_REJECT_DUPLICATES, &err);
        if (!v)
                r = config_file_syntax_problem(problems, &err);
        else if (!json_is_object(v))
                r = json_add_problem(problems, ".", "an object (a drop-in holds the members it changes)", v, NULL);
        if (r == -ENOMEM)
                return r;
        if (problems->n == before) {
                *ret = TAKE_PTR(v);
                return 0;
        }
        for (size_t i = before; i < problems->n; i++)
                if (problem_set_file(&problems->items[i], path) < 0)
                        return -ENOMEM;
        return -EINVAL;
}

int config_dropin_merge(json_t *root, char *const *fragments, ConfigOrigins **ret_origins,
                        ProblemList *problems) {
        ConfigOrigins *o;
        _cleanup_(config_origins_freep) ConfigOrigins *origins = NULL;
        bool failed = false;
        int r;

        origins = o = calloc(1, sizeof(ConfigOrigins));
        if (!o)
                return -ENOMEM;
        o->files = strv_copy(fragments);
        if (!o->files)
                return -ENOMEM;

        STRV_FOREACH(f, o->files) {
                _cleanup_json_ json_t *patch = NULL;

                r = read_fragment(*f, &patch, problems);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        failed = true;
                        continue;
                }
                r = merge_object(root, patch, ".", *f, o);
                if (r < 0)
                        return r;
        }
        if (failed)
                return -EINVAL;

        *ret_origins = TAKE_PTR(origins);
        return 0;
}
