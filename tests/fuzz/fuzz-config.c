/* SPDX-License-Identifier: MIT */
/* libFuzzer target: arbitrary bytes as a configuration file. Every input must end in either a
 * config or a list of problems, each of which formats to one line, with nothing leaked. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-load.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(config_freep) Config *c = NULL;
        ProblemList problems = {};
        int r;

        if (size > CONFIG_MAX_SIZE)
                return 0;

        r = config_parse((const char *) data, size, "fuzz.json", &c, &problems);
        if (r == 0 && (!c || problems.n > 0))
                abort();
        if (r == -EINVAL && (c || problems.n == 0))
                abort();

        for (size_t i = 0; i < problems.n; i++) {
                char *line = problem_format(&problems.items[i]);

                /* One line each, whatever the input held. */
                if (line && strchr(line, '\n'))
                        abort();
                free(line);
        }
        problem_list_done(&problems);
        return 0;
}
