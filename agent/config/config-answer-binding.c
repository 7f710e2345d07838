/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "config-answer-binding.h"
#include "json-util.h"
#include "string-util.h"

#define MATCH_EXAMPLE "{\"mac\": \"52:54:00:12:34:56\"} (or uuid, serial, disk_serial)"
#define NOT_AFTER_EXPECTED "an RFC 3339 time such as \"2026-01-31T00:00:00Z\""
#define MISMATCH_HINT                                                                                   \
        "this answer was made for another machine: serve this machine its own answer, whose \"match\" "  \
        "names one of its identifiers"

typedef enum Kind {
        KIND_MAC,
        KIND_UUID,
        KIND_SERIAL,
        KIND_DISK_SERIAL,
        _KIND_MAX,
} Kind;

static const char *const kind_names[] = { "mac", "uuid", "serial", "disk_serial", NULL };
static const char *const kind_texts[_KIND_MAX] = {
        "MACs", "SMBIOS UUID", "SMBIOS serial", "disk serials",
};

void answer_binding_done(AnswerBinding *b) {
        if (!b)
                return;
        free(b->matched);
        *b = (AnswerBinding) {};
}

/* "52:54:00:12:34:56" (or with '-', any case) in lower case with ':'; false when not a MAC. */
static bool mac_normalize(const char *s, char out[static 18]) {
        if (strlen(s) != 17)
                return false;
        for (size_t i = 0; i < 17; i++) {
                if (i % 3 == 2) {
                        if (s[i] != ':' && s[i] != '-')
                                return false;
                        out[i] = ':';
                } else {
                        if (!isxdigit((unsigned char) s[i]))
                                return false;
                        out[i] = (char) tolower((unsigned char) s[i]);
                }
        }
        out[17] = '\0';
        return true;
}

static bool same(Kind k, const char *a, const char *b) {
        char x[18], y[18];

        switch (k) {
        case KIND_MAC:
                return mac_normalize(a, x) && mac_normalize(b, y) && streq(x, y);
        case KIND_UUID:
                return strcasecmp(a, b) == 0;
        default:
                return streq(a, b);
        }
}

/* The machine's values of a kind, NULL-terminated, in values (which must hold 2 for a single). */
static char *const *machine_values(const MachineIds *m, Kind k, const char *single[static 2]) {
        single[1] = NULL;
        switch (k) {
        case KIND_MAC:
                return m->macs;
        case KIND_UUID:
                single[0] = m->uuid;
                return m->uuid ? (char *const *) single : NULL;
        case KIND_SERIAL:
                single[0] = m->serial;
                return m->serial ? (char *const *) single : NULL;
        default:
                return m->disk_serials;
        }
}

/* "a, b, c" */
static char *join(char *const *l) {
        _cleanup_free_ char *s = strdup("");

        for (char *const *i = l; s && i && *i; i++) {
                char *n;

                if (asprintf(&n, "%s%s%s", s, i == l ? "" : ", ", *i) < 0)
                        return NULL;
                free(s);
                s = n;
        }
        return TAKE_PTR(s);
}

/* What the machine has, for a problem: "mac 52:54:…; uuid …; no serial; no disk serial". */
static char *machine_text(const MachineIds *m) {
        _cleanup_free_ char *s = strdup("");

        for (Kind k = 0; s && k < _KIND_MAX; k++) {
                const char *single[2];
                char *const *values = machine_values(m, k, single);
                _cleanup_free_ char *j = values && values[0] ? join(values) : NULL;
                char *n;

                if (values && values[0] && !j)
                        return NULL;
                if (asprintf(&n, "%s%s%s %s", s, k == 0 ? "" : "; ", j ? kind_names[k] : "no", j ? j : kind_names[k]) < 0)
                        return NULL;
                free(s);
                s = n;
        }
        return TAKE_PTR(s);
}

static int append(char **s, const char *kind, const char *value) {
        char *n;

        if (asprintf(&n, "%s%s%s %s", *s ? *s : "", *s ? ", " : "", kind, value) < 0)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 0;
}

/* One member of "match": 1 compared and fits, 0 skipped (the machine has no such identifier),
 * -EINVAL a problem added, -ENOMEM. */
static int check_member(const MachineIds *m, Kind k, json_t *v, char **matched, ProblemList *problems) {
        _cleanup_free_ char *path = json_path_key(".match", kind_names[k]), *expected = NULL, *have = NULL;
        const char *single[2], *s;
        char *const *values;
        char norm[18];
        int r;

        if (!path)
                return -ENOMEM;
        s = json_string_value(v);
        if (!s || !s[0]) {
                r = json_add_problem(problems, path, "a non-empty string", v, NULL);
                return r < 0 ? r : -EINVAL;
        }
        if (k == KIND_MAC && !mac_normalize(s, norm)) {
                r = json_add_problem(problems, path, "a MAC address such as \"52:54:00:12:34:56\"", v, NULL);
                return r < 0 ? r : -EINVAL;
        }
        values = machine_values(m, k, single);
        if (!values || !values[0])
                return 0;
        for (char *const *i = values; *i; i++)
                if (same(k, s, *i))
                        return append(matched, kind_names[k], *i) < 0 ? -ENOMEM : 1;

        have = join(values);
        if (!have || asprintf(&expected, values[1] ? "one of this machine's %s (%s)" : "this machine's %s (%s)",
                              kind_texts[k], have) < 0) {
                expected = NULL;
                return -ENOMEM;
        }
        r = json_add_problem(problems, path, expected, v, MISMATCH_HINT);
        return r < 0 ? r : -EINVAL;
}

static int check_match(json_t *match, const AnswerCheck *check, char **ret_matched, ProblemList *problems) {
        _cleanup_free_ char *matched = NULL, *have = NULL, *expected = NULL;
        size_t n_before = problems->n, compared = 0;
        int r;

        if (!match) {
                if (!check->require_match)
                        return 0;
                r = problem_add(problems, ".match",
                                "the identifiers this signed answer is for: " MATCH_EXAMPLE, "nothing",
                                "add \"match\" to the answer before signing it: a signed answer that names no "
                                "machine could be served to any machine");
                return r < 0 ? r : -EINVAL;
        }
        if (!json_is_object(match) || json_object_size(match) == 0) {
                r = json_add_problem(problems, ".match", "an object naming this machine: " MATCH_EXAMPLE, match, NULL);
                return r < 0 ? r : -EINVAL;
        }
        r = json_check_keys(match, ".match", kind_names, problems);
        if (r < 0)
                return r;
        for (Kind k = 0; k < _KIND_MAX; k++) {
                json_t *v = json_object_get(match, kind_names[k]);

                if (!v)
                        continue;
                r = check_member(check->machine, k, v, &matched, problems);
                if (r == -ENOMEM)
                        return r;
                if (r > 0)
                        compared++;
        }
        if (problems->n > n_before)
                return -EINVAL;
        if (compared == 0) {
                have = machine_text(check->machine);
                if (!have || asprintf(&expected, "an identifier this machine has (%s)", have) < 0) {
                        expected = NULL;
                        return -ENOMEM;
                }
                r = json_add_problem(problems, ".match", expected, match, MISMATCH_HINT);
                return r < 0 ? r : -EINVAL;
        }
        *ret_matched = TAKE_PTR(matched);
        return 0;
}

static int check_not_after(json_t *v, const AnswerCheck *check, AnswerBinding *b, ProblemList *problems) {
        _cleanup_free_ char *expected = NULL;
        char now[ISO8601_MAX];
        usec_t t;
        int r;

        if (!v)
                return 0;
        if (!json_is_string(v) || iso8601_parse(json_string_value(v), &t) < 0) {
                r = json_add_problem(problems, ".not_after", NOT_AFTER_EXPECTED, v, NULL);
                return r < 0 ? r : -EINVAL;
        }
        b->not_after = MAX(t, (usec_t) 1);
        if (check->now < check->clock_floor) {
                b->not_after_unchecked = true;
                return 0;
        }
        if (check->now <= t)
                return 0;
        if (iso8601_format(check->now, now) < 0 || asprintf(&expected, "a time after now (%s)", now) < 0) {
                expected = NULL;
                return -ENOMEM;
        }
        r = json_add_problem(problems, ".not_after", expected, v,
                             "the answer has expired: sign a new one with a later not_after");
        return r < 0 ? r : -EINVAL;
}

int answer_binding_check(json_t *answer, const AnswerCheck *check, AnswerBinding *ret, ProblemList *problems) {
        _cleanup_(json_decrefp) json_t *match = json_incref(json_object_get(answer, "match"));
        _cleanup_(json_decrefp) json_t *not_after = json_incref(json_object_get(answer, "not_after"));
        _cleanup_(answer_binding_done) AnswerBinding b = {};
        size_t n_before = problems->n;
        int r;

        (void) json_object_del(answer, "match");
        (void) json_object_del(answer, "not_after");

        r = check_match(match, check, &b.matched, problems);
        if (r == -ENOMEM)
                return r;
        r = check_not_after(not_after, check, &b, problems);
        if (r == -ENOMEM)
                return r;
        if (problems->n > n_before)
                return -EINVAL;
        *ret = b;
        b = (AnswerBinding) {};
        return 0;
}
