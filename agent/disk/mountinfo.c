/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "cleanup.h"
#include "mountinfo.h"
#include "strv.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s) {
        char *r = malloc(strlen(s) + 1), *o = r;

        if (!r)
                return NULL;
        while (*s) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
                    s[3] >= '0' && s[3] <= '7') {
                        *o++ = (char) ((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
                        s += 4;
                } else
                        *o++ = *s++;
        }
        *o = '\0';
        return r;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue" */
/* The next space-separated word of *s, or NULL. */
static char *next_word(char **s) {
        char *w;

        while (*s && **s == ' ')
                (*s)++;
        w = strsep(s, " \n");
        return w && *w ? w : NULL;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue" */
static int parse_line(char *line, MountEntry *e) {
        char *fields[7] = {}, *rest, *dash;
        unsigned maj, min;

        dash = strstr(line, " - ");
        if (!dash)
                return -EBADMSG;
        *dash = '\0';
        rest = line;
        for (size_t i = 0; i < 5; i++)
                if (!(fields[i] = next_word(&rest)))
                        return -EBADMSG;
        rest = dash + 3;
        fields[5] = next_word(&rest);
        fields[6] = next_word(&rest);
        if (!fields[5] || !fields[6] || sscanf(fields[2], "%u:%u", &maj, &min) != 2)
                return -EBADMSG;

        e->devnum = makedev(maj, min);
        e->mount_point = unescape(fields[4]);
        e->fstype = strdup(fields[5]);
        e->source = unescape(fields[6]);
        if (!e->mount_point || !e->fstype || !e->source)
                return -ENOMEM;
        return 0;
}

static void entry_done(MountEntry *e) {
        free(e->mount_point);
        free(e->fstype);
        free(e->source);
}

int mountinfo_read(const char *path, MountTable *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        MountTable t = {};
        size_t cap = 0;
        int r;

        f = fopen(path ?: "/proc/self/mountinfo", "re");
        if (!f)
                return -errno;
        while (getline(&line, &cap, f) > 0) {
                MountEntry e = {}, *n;

                r = parse_line(line, &e);
                if (r == -EBADMSG) {
                        entry_done(&e);
                        continue;
                }
                if (r < 0) {
                        entry_done(&e);
                        mountinfo_done(&t);
                        return r;
                }
                n = realloc(t.entries, (t.n + 1) * sizeof *n);
                if (!n) {
                        entry_done(&e);
                        mountinfo_done(&t);
                        return -ENOMEM;
                }
                t.entries = n;
                t.entries[t.n++] = e;
        }
        *ret = t;
        return 0;
}

void mountinfo_done(MountTable *t) {
        for (size_t i = 0; i < t->n; i++)
                entry_done(&t->entries[i]);
        free(t->entries);
        *t = (MountTable) {};
}

const MountEntry *mountinfo_find(const MountTable *t, const char *mount_point) {
        for (size_t i = t->n; i > 0; i--)
                if (streq(t->entries[i - 1].mount_point, mount_point))
                        return &t->entries[i - 1];
        return NULL;
}

int swaps_read(const char *path, char ***ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        _cleanup_strv_free_ char **l = NULL;
        size_t cap = 0;
        bool header = true;
        int r;

        f = fopen(path ?: "/proc/swaps", "re");
        if (!f)
                return -errno;
        /* "Filename  Type  Size  Used  Priority" then one line per swap area. */
        while (getline(&line, &cap, f) > 0) {
                char name[4096], type[32];

                if (header) {
                        header = false;
                        continue;
                }
                if (sscanf(line, "%4095s %31s", name, type) != 2 || !streq(type, "partition"))
                        continue;
                _cleanup_free_ char *u = unescape(name);
                if (!u)
                        return -ENOMEM;
                r = strv_push(&l, u);
                if (r < 0)
                        return r;
                u = NULL;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}
