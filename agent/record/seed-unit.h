/* SPDX-License-Identifier: MIT */
#pragma once

/* The units of the older automation, one per service, that nodes' runbooks still name:
 * "systemctl status|restart chainfire-cluster-join", "journalctl -u chainfire-cluster-join".
 * They are aliases of first-boot-agent.service (Alias= in its [Install] section); a journal
 * record about one of their services carries OBJECT_SYSTEMD_UNIT=<that unit>, which
 * "journalctl -u UNIT" matches for records sent by root.
 *
 * Which records: by the record's SERVICE field when it names a service, else by its STEP:
 * a step named "chainfire-…" belongs to chainfire-cluster-join.service, "flaredb-…" to
 * flaredb-cluster-join.service, "iam-…" to iam-initial-setup.service, "health-report" to
 * cluster-health-check.service; other steps (config, the identity lookup) to none. Names, not
 * table positions: a step added or renamed within those families keeps its unit. */

/* The seed unit of a record, or NULL. step and service may be NULL. */
const char *seed_unit_for(const char *step, const char *service);

/* The seed units, NULL-terminated, in the order the older automation ran them. */
extern const char *const seed_units[];
