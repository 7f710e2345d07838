/* SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <string.h>

#include "seed-unit.h"
#include "macro.h"
#include "string-util.h"

const char *const seed_units[] = {
        "chainfire-cluster-join.service",
        "flaredb-cluster-join.service",
        "iam-initial-setup.service",
        "cluster-health-check.service",
        NULL
};

static const struct {
        const char *step_prefix;
        const char *service;            /* SERVICE= value */
        const char *marker_prefix;
        const char *unit;
} seed_map[] = {
        { "chainfire-",    "chainfire", ".chainfire-",      "chainfire-cluster-join.service" },
        { "flaredb-",      "flaredb",   ".flaredb-",        "flaredb-cluster-join.service" },
        { "iam-",          "iam",       ".iam-",            "iam-initial-setup.service" },
        { "health-report", NULL,        ".health-reported", "cluster-health-check.service" },
};

const char *seed_unit_for(const char *step, const char *service, const char *marker) {
        for (size_t i = 0; step && i < ELEMENTSOF(seed_map); i++)
                if (startswith(step, seed_map[i].step_prefix))
                        return seed_map[i].unit;
        for (size_t i = 0; service && i < ELEMENTSOF(seed_map); i++)
                if (seed_map[i].service && streq(service, seed_map[i].service))
                        return seed_map[i].unit;
        for (size_t i = 0; marker && i < ELEMENTSOF(seed_map); i++)
                if (startswith(marker, seed_map[i].marker_prefix))
                        return seed_map[i].unit;
        return NULL;
}
