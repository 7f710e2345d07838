/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "exit-code.h"
#include "verbs.h"

int verb_reset(int argc, char *argv[], const GlobalOptions *g) {
        fprintf(stderr, "first-boot-agent reset: not built yet.\n");
        return EXIT_INTERNAL;
}
