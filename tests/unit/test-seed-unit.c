/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "seed-unit.h"
#include "tap.h"

int main(void) {
        is_str(seed_unit_for("chainfire-join", NULL, NULL), "chainfire-cluster-join.service", "chainfire-join");
        is_str(seed_unit_for("chainfire-health", NULL, NULL), "chainfire-cluster-join.service",
               "chainfire-health (a step of the chainfire family, by name)");
        is_str(seed_unit_for("flaredb-join", NULL, NULL), "flaredb-cluster-join.service", "flaredb-join");
        is_str(seed_unit_for("flaredb-health", NULL, NULL), "flaredb-cluster-join.service", "flaredb-health");
        is_str(seed_unit_for("iam-setup", NULL, NULL), "iam-initial-setup.service", "iam-setup");
        is_str(seed_unit_for("iam-health", NULL, NULL), "iam-initial-setup.service", "iam-health");
        is_str(seed_unit_for("health-report", NULL, NULL), "cluster-health-check.service", "health-report");
        is_str(seed_unit_for("health-wait", "flaredb", NULL), "flaredb-cluster-join.service",
               "a record about a service belongs to its unit, whatever the step");
        is_str(seed_unit_for("health-wait", "iam", NULL), "iam-initial-setup.service", "iam's health");
        is_str(seed_unit_for(NULL, "chainfire", NULL), "chainfire-cluster-join.service", "SERVICE alone");
        ok(!seed_unit_for("health-wait", NULL, NULL), "health-wait without a service: no unit");
        is_str(seed_unit_for("health-report", "chainfire", NULL), "cluster-health-check.service",
               "the step decides before the service: the report's check of chainfire is the report's");
        is_str(seed_unit_for(NULL, NULL, ".chainfire-joined"), "chainfire-cluster-join.service", "MARKER .chainfire-joined");
        is_str(seed_unit_for(NULL, NULL, ".flaredb-initialized"), "flaredb-cluster-join.service", "MARKER .flaredb-initialized");
        is_str(seed_unit_for(NULL, NULL, ".health-reported"), "cluster-health-check.service", "MARKER .health-reported");
        ok(!seed_unit_for(NULL, NULL, ".first-boot-done"), "MARKER .first-boot-done: no unit");
        ok(!seed_unit_for("config", NULL, NULL), "config: no unit");
        ok(!seed_unit_for("identity", NULL, NULL), "identity: no unit");
        ok(!seed_unit_for(NULL, NULL, NULL), "neither: no unit");
        ok(!seed_unit_for(NULL, "report", NULL), "an unknown service: no unit");
        size_t n = 0;
        while (seed_units[n])
                n++;
        is_int(n, 4, "four seed units");
        return tap_done();
}
