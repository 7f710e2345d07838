/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "proc-cmdline.h"

int proc_cmdline_get_key(const char *key, char **ret_value) {
        _cleanup_free_ char *line = NULL, *found = NULL;
        const char *path = getenv("FIRST_BOOT_AGENT_PROC_CMDLINE");
        size_t klen = strlen(key);
        char *p;
        int r;

        r = read_full_file(path ? path : "/proc/cmdline", 64 * 1024, &line, NULL);
        if (r < 0)
                return r;

        p = line;
        for (;;) {
                char *word, *w;
                bool quoted = false;

                while (*p == ' ' || *p == '\t' || *p == '\n')
                        p++;
                if (*p == '\0')
                        break;

                /* One word, with double quotes allowed anywhere in it. */
                word = w = p;
                for (; *p; p++) {
                        if (*p == '"') {
                                quoted = !quoted;
                                continue;
                        }
                        if (!quoted && (*p == ' ' || *p == '\t' || *p == '\n'))
                                break;
                        *w++ = *p;
                }
                if (*p)
                        p++;
                *w = '\0';

                /* The last occurrence wins, as for the kernel's own parameters. */
                if (strncmp(word, key, klen) == 0 && word[klen] == '=') {
                        free(found);
                        found = strdup(word + klen + 1);
                        if (!found)
                                return -ENOMEM;
                }
        }

        if (!found)
                return 0;
        *ret_value = TAKE_PTR(found);
        return 1;
}
