/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>

#include <stddef.h>

#include "macro.h"

/* What validation found wrong: every problem of a file is collected in one pass, each naming
 * the JSON path (".services.chainfire.api_port"), what was expected, and what was found. */

typedef struct Problem {
        char *path;
        char *expected;                 /* "an integer between 1 and 65535" */
        char *found;                    /* "the string \"2379\"" */
        char *hint;                     /* "did you mean \"bootstrap\"?", or NULL */
        int line, column;               /* for JSON syntax errors, else 0 */
        char *file;                     /* the drop-in fragment it is about, or NULL: the
                                         * main file (config-dropin.h) */
} Problem;

typedef struct ProblemList {
        Problem *items;
        size_t n;
} ProblemList;

int problem_add(ProblemList *l, const char *path, const char *expected, const char *found,
                const char *hint);
/* As problem_add(), with what was found formatted; a control character in it becomes '?' (the
 * text may quote a file name or a server's bytes, and reaches a terminal). */
int problem_addf(ProblemList *l, const char *path, const char *expected, const char *hint,
                 const char *found_format, ...) _printf_(5, 6);
int problem_addv(ProblemList *l, const char *path, const char *expected, const char *hint,
                 const char *found_format, va_list ap) _printf_(5, 0);
void problem_list_done(ProblemList *l);
/* Sets (replaces) p->file. 0 or -ENOMEM. */
int problem_set_file(Problem *p, const char *file);
/* The file a problem is about: its own, else main_path. */
static inline const char *problem_file(const Problem *p, const char *main_path) {
        return p->file ? p->file : main_path;
}
/* One problem as one line: "PATH: expected …, found …; did you mean …?" */
char *problem_format(const Problem *p);
