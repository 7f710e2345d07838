/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "problem.h"
#include "string-util.h"

static void problem_done(Problem *p) {
        free(p->path);
        free(p->expected);
        free(p->found);
        free(p->hint);
        free(p->file);
}

static int strdup_or_null(const char *s, char **ret) {
        char *copy = NULL;

        if (s) {
                copy = strdup(s);
                if (!copy)
                        return -ENOMEM;
        }
        *ret = copy;
        return 0;
}

int problem_add(ProblemList *l, const char *path, const char *expected, const char *found,
                const char *hint) {
        Problem p = {};
        Problem *items;

        if (strdup_or_null(path ? path : "", &p.path) < 0 ||
            strdup_or_null(expected, &p.expected) < 0 ||
            strdup_or_null(found, &p.found) < 0 ||
            strdup_or_null(hint, &p.hint) < 0) {
                problem_done(&p);
                return -ENOMEM;
        }

        items = reallocarray(l->items, l->n + 1, sizeof(Problem));
        if (!items) {
                problem_done(&p);
                return -ENOMEM;
        }
        l->items = items;
        l->items[l->n++] = p;
        return 0;
}

int problem_addv(ProblemList *l, const char *path, const char *expected, const char *hint,
                 const char *found_format, va_list ap) {
        _cleanup_free_ char *found = NULL;

        if (vasprintf(&found, found_format, ap) < 0) {
                found = NULL;
                return -ENOMEM;
        }
        string_make_printable(found);
        return problem_add(l, path, expected, found, hint);
}

int problem_addf(ProblemList *l, const char *path, const char *expected, const char *hint,
                 const char *found_format, ...) {
        va_list ap;
        int r;

        va_start(ap, found_format);
        r = problem_addv(l, path, expected, hint, found_format, ap);
        va_end(ap);
        return r;
}

int problem_set_file(Problem *p, const char *file) {
        char *copy = NULL;

        if (strdup_or_null(file, &copy) < 0)
                return -ENOMEM;
        free(p->file);
        p->file = copy;
        return 0;
}

void problem_list_done(ProblemList *l) {
        for (size_t i = 0; i < l->n; i++)
                problem_done(&l->items[i]);
        free(l->items);
        l->items = NULL;
        l->n = 0;
}

/* "PATH: line L, column C: expected EXPECTED, found FOUND; HINT". Each part is left out when
 * empty, so a problem about the file itself (no JSON path) starts with "expected". */
char *problem_format(const Problem *p) {
        _cleanup_free_ char *where = NULL;
        const char *path = p->path && p->path[0] ? p->path : NULL;
        char *s;
        int r;

        if (p->line > 0)
                r = asprintf(&where, "%s%sline %d, column %d: ", path ? path : "", path ? ": " : "",
                             p->line, p->column);
        else
                r = asprintf(&where, "%s%s", path ? path : "", path ? ": " : "");
        if (r < 0)
                return NULL;

        if (p->expected && p->found)
                r = asprintf(&s, "%sexpected %s, found %s%s%s", where, p->expected, p->found,
                             p->hint ? "; " : "", strempty(p->hint));
        else
                r = asprintf(&s, "%s%s%s%s", where, p->expected ? p->expected : strempty(p->found),
                             p->hint ? "; " : "", strempty(p->hint));
        if (r < 0)
                return NULL;
        return s;
}
