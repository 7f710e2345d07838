/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "env-file.h"
#include "fileio.h"

#define ENV_FILE_MAX (1024 * 1024)

/* "KEY=" at the start of line, after blanks and an optional '#' (a commented default). */
static bool line_sets(const char *line, size_t len, const char *key) {
        size_t k = strlen(key), i = 0;

        while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
        if (i < len && line[i] == '#') {
                i++;
                while (i < len && (line[i] == ' ' || line[i] == '\t'))
                        i++;
        }
        if (len - i >= 7 && strneq(line + i, "export ", 7))
                i += 7;
        return len - i > k && strneq(line + i, key, k) && line[i + k] == '=';
}

static void put_value(FILE *f, const char *v) {
        if (strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789=,:/._+@%-") == strlen(v)) {
                fputs(v, f);
                return;
        }
        fputc('"', f);
        for (const char *p = v; *p; p++) {
                if (*p == '"' || *p == '\\' || *p == '$' || *p == '`')
                        fputc('\\', f);
                fputc(*p, f);
        }
        fputc('"', f);
}

int env_file_set(const char *path, const char *const *pairs, mode_t mode) {
        _cleanup_free_ char *old = NULL, *out = NULL;
        size_t old_size = 0, out_size = 0, n_keys = 0;
        bool written[64] = {};
        struct stat st;
        FILE *f;
        int r;

        for (const char *const *p = pairs; p && p[0]; p += 2)
                if (!p[1] || n_keys++ >= ELEMENTSOF(written))
                        return -EINVAL;

        r = read_full_file(path, ENV_FILE_MAX, &old, &old_size);
        if (r == -ENOENT)
                old = NULL;
        else if (r < 0)
                return r;
        else if (stat(path, &st) >= 0)
                mode = st.st_mode & 07777;

        f = open_memstream(&out, &out_size);
        if (!f)
                return -ENOMEM;
        for (const char *line = old; line && *line;) {
                size_t len = strcspn(line, "\n");
                size_t k = 0;
                bool replaced = false;

                for (const char *const *p = pairs; p[0]; p += 2, k++) {
                        if (!line_sets(line, len, p[0]))
                                continue;
                        if (!written[k]) {
                                fprintf(f, "%s=", p[0]);
                                put_value(f, p[1]);
                                fputc('\n', f);
                                written[k] = true;
                        }
                        replaced = true;
                        break;
                }
                if (!replaced)
                        fprintf(f, "%.*s\n", (int) len, line);
                line += len;
                if (*line == '\n')
                        line++;
        }
        {
                size_t k = 0;

                for (const char *const *p = pairs; p[0]; p += 2, k++)
                        if (!written[k]) {
                                fprintf(f, "%s=", p[0]);
                                put_value(f, p[1]);
                                fputc('\n', f);
                        }
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        return write_file_atomic(path, out, out_size, mode);
}

int env_file_get(const char *path, const char *key, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file(path, ENV_FILE_MAX, &text, &size);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        for (char *line = text; *line;) {
                size_t len = strcspn(line, "\n");
                const char *v;
                char *value;

                if (line[strspn(line, " \t")] != '#' && line_sets(line, len, key)) {
                        v = (const char *) memchr(line, '=', len) + 1;
                        len -= (size_t) (v - line);
                        if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
                                char *o;

                                value = o = malloc(len);
                                if (!value)
                                        return -ENOMEM;
                                for (size_t i = 1; i + 1 < len; i++) {
                                        if (v[i] == '\\' && i + 2 < len)
                                                i++;
                                        *o++ = v[i];
                                }
                                *o = '\0';
                        } else if (!(value = strndup(v, len)))
                                return -ENOMEM;
                        *ret = value;
                        return 1;
                }
                line += len;
                if (*line == '\n')
                        line++;
        }
        return 0;
}
