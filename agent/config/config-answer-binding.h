/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "problem.h"
#include "time-util.h"

/* Which machine an answer is for, and until when: the members "match" and "not_after" of a
 * provisioning server's answer. A signature covers the whole answer, so these bind it to the
 * machine: node A's signed answer served to machine B is refused.
 *
 *   "match": {"mac": "52:54:00:12:34:56"}     // one or more of mac, uuid, serial, disk_serial
 *   "not_after": "2026-01-31T00:00:00Z"       // RFC 3339, Z or a numeric offset, no fractions
 *
 * "match" names identifiers, each a string: mac (any physical NIC's, ':' or '-', any case), uuid
 * (the SMBIOS system UUID, any case), serial (the SMBIOS system serial), disk_serial (any disk's).
 * Every member whose kind the machine has must be one of the machine's values of that kind;
 * a member of a kind the machine lacks (no SMBIOS serial) is skipped; and at least one member
 * must have been compared, so an answer whose identifiers this machine has none of is refused.
 * A signed answer must carry "match"; an unsigned one (over verified HTTPS) need not, but a
 * "match" it carries must fit all the same.
 *
 * "not_after" is compared with the clock, unless the clock is before clock_floor (the agent's
 * build time): such a clock is wrong, and an expiry judged by it would refuse good answers, so
 * it is not judged then (the result says so). Both members are taken out of the answer before
 * it is merged as configuration. Never logs. */

typedef struct MachineIds {
        char *const *macs;              /* NULL-terminated, may be NULL */
        const char *uuid;               /* NULL when the machine has none */
        const char *serial;
        char *const *disk_serials;      /* may be NULL */
} MachineIds;

typedef struct AnswerCheck {
        const MachineIds *machine;
        bool require_match;             /* the answer's signature was verified */
        usec_t now;                     /* CLOCK_REALTIME */
        usec_t clock_floor;             /* a clock before this is not trusted to expire answers */
} AnswerCheck;

typedef struct AnswerBinding {
        char *matched;                  /* "mac 52:54:00:12:34:56, uuid …": what was compared, or
                                         * NULL when the answer has no "match" */
        usec_t not_after;               /* 0: none */
        bool not_after_unchecked;       /* the clock is before clock_floor: not judged */
} AnswerBinding;

void answer_binding_done(AnswerBinding *b);

/* Removes "match" and "not_after" from answer (an object) and checks them against check. 0 with
 * *ret filled in; -EINVAL with a problem for each member that is malformed or does not fit (an
 * answer for another machine, an expired one, a signed one without "match"); -ENOMEM. */
int answer_binding_check(json_t *answer, const AnswerCheck *check, AnswerBinding *ret, ProblemList *problems);
