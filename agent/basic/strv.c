/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **s = l; *s; s++)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        if (!l)
                return 0;
        while (l[n])
                n++;
        return n;
}

bool strv_contains(char *const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (strcmp(*i, s) == 0)
                        return true;
        return false;
}

int strv_push(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **c;

        c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c)
                return -ENOMEM;
        c[n] = s;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        char *d;
        int r;

        d = strdup(s);
        if (!d)
                return -ENOMEM;
        r = strv_push(l, d);
        if (r < 0)
                free(d);
        return r;
}

char **strv_copy(char *const *l) {
        char **c;
        size_t n = strv_length(l);

        c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i])
                        return strv_free(c);
        }
        return c;
}

char *strv_join(char *const *l, const char *separator) {
        size_t n = 1, k = strlen(separator), used = 0;
        char *s;

        STRV_FOREACH(i, l)
                n += strlen(*i) + k;
        s = malloc(n);
        if (!s)
                return NULL;
        STRV_FOREACH(i, l) {
                size_t m = strlen(*i);

                if (used > 0) {
                        memcpy(s + used, separator, k);
                        used += k;
                }
                memcpy(s + used, *i, m);
                used += m;
        }
        s[used] = '\0';
        return s;
}
