/* SPDX-License-Identifier: MIT */
#pragma once

/* The units of the older automation, one per service, that nodes' runbooks still name:
 * "systemctl status|restart chainfire-cluster-join", "journalctl -u chainfire-cluster-join".
 * They are aliases of first-boot-agent.service (Alias= in its [Install] section); a journal
 * record about one of their services carries OBJECT_SYSTEMD_UNIT=<that unit>, which
 * "journalctl -u UNIT" matches for records sent by root.
 *
 * Which records, by the first of these fields that names a family: STEP (a step named
 * "chainfire-…" belongs to chainfire-cluster-join.service, "flaredb-…" to
 * flaredb-cluster-join.service, "iam-…" to iam-initial-setup.service, "health-report" to
 * cluster-health-check.service), then SERVICE (chainfire, flaredb, iam: the health wait of
 * several services, "member add"), then MARKER (".chainfire-joined" …). Other records (config,
 * the identity lookup, the run as a whole) belong to none. Names, not table positions: a step
 * added or renamed within those families keeps its unit. */

/* The seed unit of a record, or NULL. Each argument may be NULL. */
const char *seed_unit_for(const char *step, const char *service, const char *marker);

/* The seed units, NULL-terminated, in the order the older automation ran them. */
extern const char *const seed_units[];
