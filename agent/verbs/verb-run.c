/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "exit-code.h"
#include "verbs.h"

int verb_run(int argc, char *argv[], const GlobalOptions *g) {
        fprintf(stderr, "first-boot-agent run: not built yet.\n");
        return EXIT_INTERNAL;
}

const char *verbs_state_dir_early(const GlobalOptions *g) {
        return g->state_dir;
}
