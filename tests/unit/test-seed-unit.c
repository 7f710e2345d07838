/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "seed-unit.h"
#include "tap.h"

int main(void) {
        is_str(seed_unit_for("chainfire-join", NULL), "chainfire-cluster-join.service", "chainfire-join");
        is_str(seed_unit_for("chainfire-health", NULL), "chainfire-cluster-join.service",
               "chainfire-health (a step of the chainfire family, by name)");
        is_str(seed_unit_for("flaredb-join", NULL), "flaredb-cluster-join.service", "flaredb-join");
        is_str(seed_unit_for("flaredb-health", NULL), "flaredb-cluster-join.service", "flaredb-health");
        is_str(seed_unit_for("iam-setup", NULL), "iam-initial-setup.service", "iam-setup");
        is_str(seed_unit_for("iam-health", NULL), "iam-initial-setup.service", "iam-health");
        is_str(seed_unit_for("health-report", NULL), "cluster-health-check.service", "health-report");
        is_str(seed_unit_for("health-wait", "flaredb"), "flaredb-cluster-join.service",
               "a record about a service belongs to its unit, whatever the step");
        is_str(seed_unit_for("health-wait", "iam"), "iam-initial-setup.service", "iam's health");
        is_str(seed_unit_for(NULL, "chainfire"), "chainfire-cluster-join.service", "SERVICE alone");
        ok(!seed_unit_for("health-wait", NULL), "health-wait without a service: no unit");
        ok(!seed_unit_for("config", NULL), "config: no unit");
        ok(!seed_unit_for("identity", NULL), "identity: no unit");
        ok(!seed_unit_for(NULL, NULL), "neither: no unit");
        ok(!seed_unit_for(NULL, "report"), "an unknown service: no unit");
        size_t n = 0;
        while (seed_units[n])
                n++;
        is_int(n, 4, "four seed units");
        return tap_done();
}
