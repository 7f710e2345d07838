/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "service-seed.h"

const ServiceSeed service_seeds[SERVICE_SEEDS_N] = {
        { "chainfire", SERVICE_KIND_ADMIN, 2379, 2380 },
        { "flaredb", SERVICE_KIND_ADMIN, 2479, 2480 },
        { "iam", SERVICE_KIND_IAM, 8080, 0 },
};

bool service_is_seed(const char *name) {
        for (size_t i = 0; i < SERVICE_SEEDS_N; i++)
                if (strcmp(name, service_seeds[i].name) == 0)
                        return true;
        return false;
}
