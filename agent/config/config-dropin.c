/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "config-dropin.h"
#include "config-file.h"
#include "fileio.h"
#include "json-util.h"
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

/* Adds the fragments of dir whose names were not taken by a directory before it. Masked ones
 * (empty, or /dev/null) are added too, so that they hide lower ones; config_dropin_find drops
 * them at the end. */
static int find_in_dir(const char *dir, char ***found, ProblemList *problems) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **here = NULL;
        struct dirent *de;
        int r;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                r = problem_addf(problems, "", "a readable drop-in directory", NULL, "the error \"%s\"",
                                 strerror(errno));
                if (r < 0)
                        return r;
                return problem_set_file(&problems->items[problems->n - 1], dir) < 0 ? -ENOMEM : -EINVAL;
        }

        while ((errno = 0, de = readdir(d))) {
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".json"))
                        continue;
                if (name_taken(*found, de->d_name) || name_taken(here, de->d_name))
                        continue;
                char *p = path_join(dir, de->d_name);
                if (!p || strv_push(&here, p) < 0) {
                        free(p);
                        return -ENOMEM;
                }
        }
        STRV_FOREACH(h, here)
                if (strv_extend(found, *h) < 0)
                        return -ENOMEM;
        return 0;
}

/* An empty file or a link to /dev/null hides the fragments of that name below it. */
static bool masked(const char *path) {
        struct stat st;

        if (stat(path, &st) < 0)
                return false;
        return S_ISCHR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0);
}

int config_dropin_find(const char *main_path, const char *const *dirs, char ***ret,
                       ProblemList *problems) {
        _cleanup_strv_free_ char **found = NULL, **seen = NULL, **kept = NULL;
        _cleanup_free_ char *beside = config_dropin_dir_beside(main_path);
        bool failed = false;
        int r;

        if (!beside || strv_extend(&seen, beside) < 0)
                return -ENOMEM;
        for (const char *const *d = dirs; d && *d; d++)
                if (!strv_contains(seen, *d) && strv_extend(&seen, *d) < 0)
                        return -ENOMEM;

        STRV_FOREACH(d, seen) {
                r = find_in_dir(*d, &found, problems);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        failed = true;
        }
        if (failed)
                return -EINVAL;

        if (found)
                qsort(found, strv_length(found), sizeof(char *), compare_names);
        STRV_FOREACH(f, found)
                if (!masked(*f) && strv_extend(&kept, *f) < 0)
                        return -ENOMEM;
        if (!kept) {
                kept = calloc(1, sizeof(char *));
                if (!kept)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(kept);
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

/* Reads one fragment; problems carry its path. Returns 0 with *ret, -EINVAL, -ENOMEM. */
static int read_fragment(const char *path, json_t **ret, ProblemList *problems) {
        _cleanup_json_ json_t *v = NULL;
        size_t before = problems->n;
        int r;

        r = config_file_load_json(path, &v, problems);
        if (r >= 0 && !json_is_object(v))
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
