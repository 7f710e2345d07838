/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-answer-policy.h"
#include "json-util.h"
#include "service-seed.h"
#include "string-util.h"

const char *const answer_policy_default[] = {
        ".node_id", ".node_role", ".bootstrap", ".cluster_name", ".raft_addr", ".node_ip", ".node_fqdn",
        ".datacenter", ".rack", ".network", ".services.*.enabled", NULL
};

/* Where a node looks itself up and keeps its state: the image's alone. */
static const char *const never[] = { "provisioning", "state_dir" };

static bool is_never(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(never); i++)
                if (streq(name, never[i]))
                        return true;
        return false;
}

static bool is_segment(const char *s, size_t n) {
        if (n == 0)
                return false;
        if (n == 1 && s[0] == '*')
                return true;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", s[i]) || !s[i])
                        return false;
        return true;
}

bool answer_policy_path_is_valid(const char *s, const char **ret_hint) {
        size_t depth = 0;

        if (s[0] != '.' || !s[1]) {
                *ret_hint = "write a path as the problems name members: \".leader_url\", \".services.*.health_url\"";
                return false;
        }
        for (const char *p = s; *p; ) {
                const char *seg = p + 1;
                size_t n = strcspn(seg, ".");

                if (!is_segment(seg, n)) {
                        *ret_hint = "member names of letters, digits, '_' and '-', or \"*\" for any one member, each "
                                    "after a '.'";
                        return false;
                }
                if (depth == 0 && n == 1 && seg[0] == '*') {
                        *ret_hint = "name a top-level member: \".*\" would hand the whole configuration to the server";
                        return false;
                }
                if (depth == 0) {
                        char first[32] = "";

                        if (n < sizeof(first)) {
                                memcpy(first, seg, n);
                                first[n] = '\0';
                        }
                        if (is_never(first)) {
                                *ret_hint = "provisioning and state_dir are never an answer's to change";
                                return false;
                        }
                }
                if (depth == 2 && strneq(s, ".services.", 10) &&
                    ((n == 6 && strneq(seg, "driver", 6)) || (n == 5 && strneq(seg, "after", 5)))) {
                        *ret_hint = "a service's driver and its \"after\" make the step plan, which is the image's";
                        return false;
                }
                if (++depth > ANSWER_POLICY_DEPTH) {
                        *ret_hint = "at most 16 member names";
                        return false;
                }
                p = seg + n;
        }
        return true;
}

/* One member of the path being compared, with the one that holds it. */
typedef struct Seg {
        const char *name;
        const struct Seg *up;
} Seg;

typedef struct Walk {
        char *const *allow;
        ProblemList *problems;
        bool plan_only;         /* the step plan's members only, counted (answer_policy_changes_plan()) */
        int n;
} Walk;

/* The path's member names, outermost first (the first ANSWER_POLICY_DEPTH); returns the depth. */
static size_t seg_names(const Seg *s, const char *names[static ANSWER_POLICY_DEPTH]) {
        size_t depth = 0, k;

        for (const Seg *i = s; i; i = i->up)
                depth++;
        k = depth;
        for (const Seg *i = s; i; i = i->up)
                if (--k < ANSWER_POLICY_DEPTH)
                        names[k] = i->name;
        return depth;
}

/* 1: pattern covers the path (it names the path or a member holding it); 0: it names a member
 * inside the path; -1: neither. */
static int relation(const char *pattern, const char *const *names, size_t depth) {
        size_t i = 0;

        for (const char *p = pattern; *p == '.'; i++) {
                const char *seg = p + 1;
                size_t n = strcspn(seg, ".");

                if (i == depth)
                        return 0;
                if (i >= ANSWER_POLICY_DEPTH || n == 0)
                        return -1;
                if (!(n == 1 && seg[0] == '*') && !(strlen(names[i]) == n && strneq(names[i], seg, n)))
                        return -1;
                p = seg + n;
        }
        return 1;
}

/* The best relation of any pattern, default or allowed, to the path. */
static int best_relation(const Walk *w, const char *const *names, size_t depth) {
        int best = -1;

        if (depth > 0 && is_never(names[0]))
                return -1;
        for (const char *const *p = answer_policy_default; *p; p++)
                best = MAX(best, relation(*p, names, depth));
        for (char *const *p = w->allow; p && *p; p++)
                best = MAX(best, relation(*p, names, depth));
        return best;
}

/* The path in provisioning.allow's syntax, when it has one. */
static char *allow_form(const char *const *names, size_t depth) {
        _cleanup_free_ char *s = strdup("");

        if (!s || depth > ANSWER_POLICY_DEPTH)
                return NULL;
        for (size_t i = 0; i < depth; i++) {
                char *n;

                if (!is_segment(names[i], strlen(names[i])) || streq(names[i], "*"))
                        return NULL;
                if (asprintf(&n, "%s.%s", s, names[i]) < 0)
                        return NULL;
                free(s);
                s = n;
        }
        return TAKE_PTR(s);
}

/* Which services a node joins, their kinds and their order make the step plan, which is made from
 * the image's template: an answer may turn a service on or off (".services.*.enabled"), never add
 * one, remove one, change its driver or its "after", whatever provisioning.allow says. Returns
 * what the member is, when it is one of those. */
static const char *plan_member(const char *const *names, size_t depth, json_t *t, json_t *m) {
        if (depth < 2 || !streq(names[0], "services"))
                return NULL;
        if (depth == 2 && service_is_seed(names[1]))
                return NULL;    /* always there: its members are judged one by one */
        if (depth == 2 && !t)
                return "a service the image does not declare";
        if (depth == 2 && !m)
                return "a service the image declares, which an answer may only turn off";
        if (depth == 3 && (streq(names[2], "driver") || streq(names[2], "after")))
                return "the image's step plan (a service's driver and order)";
        return NULL;
}

/* plan: what the member is when it makes the step plan (plan_member()), else NULL. */
static int report(Walk *w, const char *path, const char *const *names, size_t depth, json_t *t, json_t *m,
                  const char *plan) {
        _cleanup_free_ char *expected = NULL, *found = NULL, *hint = NULL, *was = NULL, *form = NULL;
        int r;

        if (w->plan_only) {
                w->n++;
                return 0;
        }
        was = t ? json_describe(t) : NULL;
        found = m ? json_describe(m) : strdup("nothing (the answer removes it)");
        if ((t && !was) || !found)
                return -ENOMEM;
        if (plan)
                r = asprintf(&expected, "%s (%s), which an answer may not change", plan,
                             was ? was : "not in the template");
        else
                r = asprintf(&expected, "the image's value (%s), which an answer may not change",
                             was ? was : "nothing: the template does not set it");
        if (r < 0) {
                expected = NULL;
                return -ENOMEM;
        }
        if (plan)
                r = asprintf(&hint, "declare every service a node may join in the image's template (\"enabled\": "
                             "false where most nodes do not run it) and let the answer set "
                             "\".services.NAME.enabled\"; provisioning.allow cannot hand the services over");
        else if (depth > 0 && is_never(names[0]))
                r = asprintf(&hint, "where a node looks itself up and keeps its state are the image's alone: remove "
                             "it from the node's answer (provisioning.allow cannot list it)");
        else {
                form = allow_form(names, depth);
                r = asprintf(&hint, "remove it from the node's answer on the provisioning server, or, if the image's "
                             "owner means the server to set it, list \"%s\" in provisioning.allow in the image's "
                             "template", form ? form : path);
        }
        if (r < 0) {
                hint = NULL;
                return -ENOMEM;
        }
        r = problem_add(w->problems, path, expected, found, hint);
        if (r < 0)
                return r;
        w->n++;
        return 0;
}

static int walk(Walk *w, const Seg *seg, const char *path, json_t *t, json_t *m) {
        const char *names[ANSWER_POLICY_DEPTH] = {};
        const char *key, *plan;
        json_t *v;
        size_t depth;
        bool allowed;
        int r;

        if (!t && !m)
                return 0;
        if (t && m && json_equal(t, m))
                return 0;
        depth = seg_names(seg, names);
        plan = plan_member(names, depth, t, m);
        if (plan)
                return report(w, path, names, depth, t, m, plan);
        allowed = !w->plan_only && best_relation(w, names, depth) > 0;
        /* An allowed ".services" or ".services.NAME" still holds plan members to look at. */
        if (allowed && !(depth >= 1 && depth <= 2 && streq(names[0], "services")))
                return 0;

        /* Objects on both sides (or an object added or removed): name the members one by one. */
        if ((!t || json_is_object(t)) && (!m || json_is_object(m)) && json_object_size(t) + json_object_size(m) > 0) {
                json_object_foreach(m, key, v) {
                        _cleanup_free_ char *p = json_path_key(path, key);

                        if (!p)
                                return -ENOMEM;
                        r = walk(w, &(Seg) { key, seg }, p, t ? json_object_get(t, key) : NULL, v);
                        if (r < 0)
                                return r;
                }
                json_object_foreach(t, key, v) {
                        _cleanup_free_ char *p = NULL;

                        if (m && json_object_get(m, key))
                                continue;
                        p = json_path_key(path, key);
                        if (!p)
                                return -ENOMEM;
                        r = walk(w, &(Seg) { key, seg }, p, v, NULL);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (allowed || w->plan_only)
                return 0;
        return report(w, path, names, depth, t, m, NULL);
}

int answer_policy_check(json_t *template, json_t *merged, char *const *allow, ProblemList *problems) {
        Walk w = { .allow = allow, .problems = problems };
        int r;

        r = walk(&w, NULL, ".", template, merged);
        return r < 0 ? r : w.n;
}

int answer_policy_changes_plan(json_t *template, json_t *merged) {
        Walk w = { .plan_only = true };
        json_t *t = template ? json_object_get(template, "services") : NULL;
        json_t *m = merged ? json_object_get(merged, "services") : NULL;
        int r;

        r = walk(&w, &(Seg) { "services", NULL }, ".services", t, m);
        return r < 0 ? r : w.n > 0;
}
