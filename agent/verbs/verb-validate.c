/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "exit-code.h"
#include "verbs.h"

int verb_validate(int argc, char *argv[], const GlobalOptions *g) {
        fprintf(stderr, "first-boot-agent validate: not built yet.\n");
        return EXIT_INTERNAL;
}
