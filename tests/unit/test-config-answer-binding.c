/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-answer-binding.h"
#include "json-util.h"
#include "tap.h"

/* "match" and "not_after": which machine an answer is for, and until when. */

static char *macs[] = { (char *) "52:54:00:fb:a0:04", (char *) "52:54:00:fb:b0:04", NULL };
static char *disks[] = { (char *) "S4EWNX0R123456", NULL };
static const MachineIds machine = {
        .macs = macs, .uuid = "6c1c0b3e-0000-4000-8000-000000000004", .serial = "SN-0004", .disk_serials = disks,
};
static const MachineIds bare = { .macs = macs };        /* no SMBIOS, no disks */

#define NOW (1800000000ULL * USEC_PER_SEC)      /* 2027-01-15T08:00:00Z */
#define FLOOR (1700000000ULL * USEC_PER_SEC)

/* Checks answer; returns the result code, with *ret_first the first problem ("" for none). */
static int run(const char *answer, const MachineIds *m, bool require, usec_t now, AnswerBinding *ret,
               char **ret_first, bool *ret_taken_out) {
        _cleanup_(json_decrefp) json_t *a = json_loads(answer, 0, NULL);
        AnswerCheck check = { .machine = m, .require_match = require, .now = now, .clock_floor = FLOOR };
        ProblemList l = {};
        int r;

        r = answer_binding_check(a, &check, ret, &l);
        *ret_first = l.n > 0 ? problem_format(&l.items[0]) : strdup("");
        *ret_taken_out = a && !json_object_get(a, "match") && !json_object_get(a, "not_after") &&
                         json_object_get(a, "node_id");
        problem_list_done(&l);
        return r;
}

static void accepted(const char *answer, const MachineIds *m, bool require, usec_t now, const char *matched,
                     const char *what) {
        _cleanup_free_ char *first = NULL;
        AnswerBinding b = {};
        bool out;

        is_int(run(answer, m, require, now, &b, &first, &out), 0, "%s: accepted", what);
        is_str(first, "", "%s: no problem", what);
        if (matched)
                is_str(b.matched, matched, "%s: what matched", what);
        else
                ok(!b.matched, "%s: nothing matched (no match)", what);
        ok(out, "%s: match and not_after taken out, the rest kept", what);
        answer_binding_done(&b);
}

static void refused(const char *answer, const MachineIds *m, bool require, usec_t now, const char *expected,
                    const char *what) {
        _cleanup_free_ char *first = NULL;
        AnswerBinding b = {};
        bool out;

        is_int(run(answer, m, require, now, &b, &first, &out), -EINVAL, "%s: refused", what);
        is_str(first, expected, "%s: the problem", what);
        ok(!b.matched, "%s: nothing returned", what);
}

int main(void) {
        _cleanup_free_ char *first = NULL;
        AnswerBinding b = {};
        bool out;

        accepted("{\"node_id\": \"n\"}", &machine, false, NOW, NULL, "unsigned, no match");
        accepted("{\"node_id\": \"n\", \"match\": {\"mac\": \"52-54-00-FB-B0-04\"}}", &machine, true, NOW,
                 "mac 52:54:00:fb:b0:04", "the second NIC's MAC, other case and dashes");
        accepted("{\"node_id\": \"n\", \"match\": {\"uuid\": \"6C1C0B3E-0000-4000-8000-000000000004\", \"serial\": "
                 "\"SN-0004\", \"disk_serial\": \"S4EWNX0R123456\"}}", &machine, true, NOW,
                 "uuid 6c1c0b3e-0000-4000-8000-000000000004, serial SN-0004, disk_serial S4EWNX0R123456",
                 "uuid (any case), serial and disk serial, all fitting");
        accepted("{\"node_id\": \"n\", \"match\": {\"mac\": \"52:54:00:fb:a0:04\", \"serial\": \"SN-0099\"}}", &bare,
                 true, NOW, "mac 52:54:00:fb:a0:04", "a serial the machine does not have is skipped");
        accepted("{\"node_id\": \"n\", \"match\": {\"mac\": \"52:54:00:fb:a0:04\"}, \"not_after\": "
                 "\"2027-01-15T09:00:00+01:00\"}", &machine, true, NOW, "mac 52:54:00:fb:a0:04",
                 "not_after exactly now (an offset taken into account)");

        refused("{\"node_id\": \"n\"}", &machine, true, NOW,
                ".match: expected the identifiers this signed answer is for: {\"mac\": \"52:54:00:12:34:56\"} (or uuid, "
                "serial, disk_serial), found nothing; add \"match\" to the answer before signing it: a signed answer "
                "that names no machine could be served to any machine", "signed without match");
        refused("{\"node_id\": \"n\", \"match\": {\"mac\": \"52:54:00:fb:a0:05\"}}", &machine, true, NOW,
                ".match.mac: expected one of this machine's MACs (52:54:00:fb:a0:04, 52:54:00:fb:b0:04), found the "
                "string \"52:54:00:fb:a0:05\"; this answer was made for another machine: serve this machine its own "
                "answer, whose \"match\" names one of its identifiers", "another machine's MAC (a replay)");
        refused("{\"node_id\": \"n\", \"match\": {\"mac\": \"52:54:00:fb:a0:04\", \"serial\": \"SN-0005\"}}", &machine,
                true, NOW, ".match.serial: expected this machine's SMBIOS serial (SN-0004), found the string "
                "\"SN-0005\"; this answer was made for another machine: serve this machine its own answer, whose "
                "\"match\" names one of its identifiers", "one member fits, another does not");
        refused("{\"node_id\": \"n\", \"match\": {\"serial\": \"SN-0004\"}}", &bare, true, NOW,
                ".match: expected an identifier this machine has (mac 52:54:00:fb:a0:04, 52:54:00:fb:b0:04; no uuid; "
                "no serial; no disk_serial), found an object; this answer was made for another machine: serve this "
                "machine its own answer, whose \"match\" names one of its identifiers",
                "nothing this machine has to compare");
        refused("{\"node_id\": \"n\", \"match\": {}}", &machine, false, NOW,
                ".match: expected an object naming this machine: {\"mac\": \"52:54:00:12:34:56\"} (or uuid, serial, "
                "disk_serial), found an empty object", "an empty match");
        refused("{\"node_id\": \"n\", \"match\": \"52:54:00:fb:a0:04\"}", &machine, false, NOW,
                ".match: expected an object naming this machine: {\"mac\": \"52:54:00:12:34:56\"} (or uuid, serial, "
                "disk_serial), found the string \"52:54:00:fb:a0:04\"", "match as a string");
        refused("{\"node_id\": \"n\", \"match\": {\"MAC\": \"52:54:00:fb:a0:04\"}}", &machine, false, NOW,
                ".match.MAC: expected a known key, found the unknown key \"MAC\"; known keys: mac, uuid, serial, disk_serial",
                "an unknown identifier");
        refused("{\"node_id\": \"n\", \"match\": {\"mac\": \"52:54:00:fb:a0\"}}", &machine, false, NOW,
                ".match.mac: expected a MAC address such as \"52:54:00:12:34:56\", found the string \"52:54:00:fb:a0\"",
                "a malformed MAC");
        refused("{\"node_id\": \"n\", \"match\": {\"uuid\": 4}}", &machine, false, NOW,
                ".match.uuid: expected a non-empty string, found the number 4", "a number");
        refused("{\"node_id\": \"n\", \"match\": {\"uuid\": \"6c1c0b3e-0000-4000-8000-000000000005\"}}", &machine,
                false, NOW, ".match.uuid: expected this machine's SMBIOS UUID (6c1c0b3e-0000-4000-8000-000000000004), "
                "found the string \"6c1c0b3e-0000-4000-8000-000000000005\"; this answer was made for another machine: "
                "serve this machine its own answer, whose \"match\" names one of its identifiers",
                "unsigned: a match present must fit");
        refused("{\"node_id\": \"n\", \"match\": {\"mac\": \"52:54:00:fb:a0:04\"}, \"not_after\": "
                "\"2027-01-15T07:59:59Z\"}", &machine, true, NOW,
                ".not_after: expected a time after now (2027-01-15T08:00:00+00:00), found the string "
                "\"2027-01-15T07:59:59Z\"; the answer has expired: sign a new one with a later not_after", "expired");
        refused("{\"node_id\": \"n\", \"not_after\": \"tomorrow\"}", &machine, false, NOW,
                ".not_after: expected an RFC 3339 time such as \"2026-01-31T00:00:00Z\", found the string \"tomorrow\"",
                "not_after not a time");
        refused("{\"node_id\": \"n\", \"not_after\": 1800000000}", &machine, false, NOW,
                ".not_after: expected an RFC 3339 time such as \"2026-01-31T00:00:00Z\", found the number 1800000000",
                "not_after a number");

        /* A clock before the build time is wrong: it does not judge not_after, and says so. */
        is_int(run("{\"node_id\": \"n\", \"match\": {\"mac\": \"52:54:00:fb:a0:04\"}, \"not_after\": "
                   "\"2020-01-01T00:00:00Z\"}", &machine, true, FLOOR - USEC_PER_SEC, &b, &first, &out), 0,
               "an expired not_after with the clock before the build time: accepted");
        ok(b.not_after_unchecked, "not_after marked unchecked");
        is_int(b.not_after, 1577836800ULL * USEC_PER_SEC, "not_after read");
        answer_binding_done(&b);
        first = mfree(first);
        is_int(run("{\"node_id\": \"n\", \"match\": {\"mac\": \"52:54:00:fb:a0:05\"}, \"not_after\": "
                   "\"2020-01-01T00:00:00Z\"}", &machine, true, FLOOR - USEC_PER_SEC, &b, &first, &out), -EINVAL,
               "the same clock still refuses another machine's answer");
        return tap_done();
}
