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
#define SAFE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789=,:/._+@%-"

/* "KEY=" at the start of the entry, after blanks, an optional '#' (a commented default) and an
 * optional "export ". */
static bool entry_sets(const char *line, size_t len, const char *key) {
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

/* The length of the entry that starts at s, without its final newline: one line, or more when a
 * quote opened on it closes on a later line or a line ends in a backslash, as the shell and
 * systemd's EnvironmentFile= read them (both take the whole as one assignment). A comment line
 * is one line; a quote that never closes counts as the first line alone. */
static size_t entry_len(const char *s) {
        size_t first = strcspn(s, "\n");
        const char *p = s + strspn(s, " \t");
        enum { PLAIN, DOUBLE, SINGLE } q = PLAIN;
        bool word_start = true;

        if (*p == '#' || *p == ';')
                return first;
        for (; *p; p++)
                switch (q) {
                case PLAIN:
                        if (*p == '\n')
                                return (size_t) (p - s);
                        if (*p == '#' && word_start)    /* a comment to the end of this line */
                                return (size_t) (p - s) + strcspn(p, "\n");
                        if (*p == '\\' && p[1])         /* an escaped character, or a continued line */
                                p++;
                        else if (*p == '"')
                                q = DOUBLE;
                        else if (*p == '\'')
                                q = SINGLE;
                        word_start = *p == ' ' || *p == '\t';
                        break;
                case DOUBLE:
                        if (*p == '\\' && p[1])
                                p++;
                        else if (*p == '"')
                                q = PLAIN;
                        break;
                case SINGLE:
                        if (*p == '\'')
                                q = PLAIN;
                        break;
                }
        return q == PLAIN ? (size_t) (p - s) : first;
}

static bool key_valid(const char *k) {
        if (!k || !((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || *k == '_'))
                return false;
        return strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == strlen(k);
}

bool env_file_value_valid(const char *v) {
        for (const unsigned char *p = (const unsigned char *) v; p && *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return v != NULL;
}

int env_file_check(const char *const *pairs, const char **ret_key) {
        for (const char *const *p = pairs; p && p[0]; p += 2)
                if (!key_valid(p[0]) || !env_file_value_valid(p[1])) {
                        if (ret_key)
                                *ret_key = p[0];
                        return -EINVAL;
                }
        return 0;
}

/* KEY=VALUE and a newline; VALUE double-quoted with '"', '\\', '$' and '`' escaped unless every
 * character is in SAFE_CHARS. The value has no control character (env_file_check()). */
static void put_entry(FILE *f, const char *key, const char *v) {
        fprintf(f, "%s=", key);
        if (strspn(v, SAFE_CHARS) == strlen(v))
                fputs(v, f);
        else {
                fputc('"', f);
                for (const char *p = v; *p; p++) {
                        if (strchr("\"\\$`", *p))
                                fputc('\\', f);
                        fputc(*p, f);
                }
                fputc('"', f);
        }
        fputc('\n', f);
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
        r = env_file_check(pairs, NULL);
        if (r < 0)
                return r;

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
        for (const char *entry = old; entry && *entry;) {
                size_t len = entry_len(entry), k = 0;
                bool replaced = false;

                /* An entry of a key being set goes whole, every line of it: a value spread over
                 * several lines leaves none of them behind to be read as an assignment of its own. */
                for (const char *const *p = pairs; p[0]; p += 2, k++) {
                        if (!entry_sets(entry, len, p[0]))
                                continue;
                        if (!written[k]) {
                                put_entry(f, p[0], p[1]);
                                written[k] = true;
                        }
                        replaced = true;
                        break;
                }
                if (!replaced)
                        fprintf(f, "%.*s\n", (int) len, entry);
                entry += len;
                if (*entry == '\n')
                        entry++;
        }
        {
                size_t k = 0;

                for (const char *const *p = pairs; p[0]; p += 2, k++)
                        if (!written[k])
                                put_entry(f, p[0], p[1]);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        return write_file_atomic(path, out, out_size, mode);
}

/* The value of an entry (what follows '='), unquoted as the shell would. */
static char *entry_value(const char *v, size_t len) {
        enum { PLAIN, DOUBLE, SINGLE } q = PLAIN;
        char *value, *o;

        value = o = malloc(len + 1);
        if (!value)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                char c = v[i];

                switch (q) {
                case PLAIN:
                        if (c == ' ' || c == '\t')
                                goto done;
                        if (c == '\\' && i + 1 < len) {
                                if (v[++i] != '\n')
                                        *o++ = v[i];
                        } else if (c == '"')
                                q = DOUBLE;
                        else if (c == '\'')
                                q = SINGLE;
                        else
                                *o++ = c;
                        break;
                case DOUBLE:
                        if (c == '\\' && i + 1 < len && strchr("\"\\$`\n", v[i + 1])) {
                                if (v[++i] != '\n')
                                        *o++ = v[i];
                        } else if (c == '"')
                                q = PLAIN;
                        else
                                *o++ = c;
                        break;
                case SINGLE:
                        if (c == '\'')
                                q = PLAIN;
                        else
                                *o++ = c;
                        break;
                }
        }
done:
        *o = '\0';
        return value;
}

int env_file_get(const char *path, const char *key, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file(path, ENV_FILE_MAX, &text, &size);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        for (const char *entry = text; *entry;) {
                size_t len = entry_len(entry);

                if (entry[strspn(entry, " \t")] != '#' && entry_sets(entry, len, key)) {
                        const char *v = (const char *) memchr(entry, '=', len) + 1;
                        char *value = entry_value(v, len - (size_t) (v - entry));

                        if (!value)
                                return -ENOMEM;
                        *ret = value;
                        return 1;
                }
                entry += len;
                if (*entry == '\n')
                        entry++;
        }
        return 0;
}
