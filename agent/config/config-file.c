/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "config-file.h"
#include "fileio.h"
#include "json-util.h"
#include "macro.h"
#include "string-util.h"

int config_file_syntax_problem(ProblemList *problems, const json_error_t *err) {
        _cleanup_free_ char *found = NULL;
        int r;

        if (json_error_code(err) == json_error_out_of_memory)
                return -ENOMEM;

        if (asprintf(&found, "a syntax error: %s", err->text) < 0) {
                found = NULL;
                return -ENOMEM;
        }
        /* jansson quotes the input near the error: keep that one printable line. */
        string_make_printable(found);
        r = problem_add(problems, "", "valid JSON", found, NULL);
        if (r < 0)
                return r;
        problems->items[problems->n - 1].line = MAX(err->line, 1);
        problems->items[problems->n - 1].column = MAX(err->column, 1);
        return -EINVAL;
}

/* The problem for a file that cannot be used (error: -ENOENT, -EPERM, -EFBIG, …). */
static int file_problem(ProblemList *problems, const char *path, int error) {
        _cleanup_free_ char *hint = NULL;
        struct stat st;
        mode_t mode = 0;

        switch (error) {
        case -ENOENT:
                return problem_addf(problems, "", "an existing configuration file",
                                    "the path comes from --config, else first_boot_agent.config= "
                                    "on the kernel command line, else " CONFIG_DEFAULT_PATH,
                                    "no file at %s", path);
        case -EPERM:
                if (stat(path, &st) < 0)
                        return problem_addf(problems, "", "a readable file", NULL, "%s",
                                            strerror(errno));
                mode = st.st_mode & 07777;
                if (mode & 077) {
                        if (asprintf(&hint, "run: chmod 600 %s", path) < 0) {
                                hint = NULL;
                                return -ENOMEM;
                        }
                        return problem_addf(problems, "",
                                            "a file that only its owner can read or write (mode 0600)",
                                            hint, "mode %04o", (unsigned) mode);
                }
                if (asprintf(&hint, "run: chown root:root %s", path) < 0) {
                        hint = NULL;
                        return -ENOMEM;
                }
                return problem_addf(problems, "", "a file owned by root or by the user running this",
                                    hint, "owner uid %u", (unsigned) st.st_uid);
        case -EFBIG:
                return problem_add(problems, "", "a file of at most 1 MiB", "a larger file", NULL);
        case -ENOMEM:
                return -ENOMEM;
        default:
                return problem_addf(problems, "", "a readable file", NULL, "the error \"%s\"",
                                    strerror(-error));
        }
}

int config_file_load_json(const char *path, json_t **ret, ProblemList *problems) {
        _cleanup_free_ char *text = NULL;
        json_error_t err;
        size_t size;
        json_t *root;
        int r, q;

        r = check_file_private(path, NULL);
        if (r >= 0)
                r = read_full_file(path, CONFIG_MAX_SIZE, &text, &size);
        if (r < 0) {
                q = file_problem(problems, path, r);
                return q < 0 ? q : r;
        }
        root = json_loadb(text, size, JSON_REJECT_DUPLICATES, &err);
        if (!root)
                return config_file_syntax_problem(problems, &err);
        *ret = root;
        return 0;
}
