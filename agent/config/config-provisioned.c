/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-answer-policy.h"
#include "config-load.h"
#include "config-provisioned.h"
#include "fileio.h"
#include "json-util.h"
#include "string-util.h"

char *config_provisioned_path(const char *state_dir) {
        return path_join(state_dir, CONFIG_PROVISIONED_FILE);
}

int config_provisioned_load_stored(const char *state_dir, Config **ret, char **ret_path, ProblemList *problems) {
        _cleanup_free_ char *path = config_provisioned_path(state_dir);
        int r;

        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) < 0)
                return errno == ENOENT ? 0 : -errno;
        r = config_load(path, ret, problems);
        if (r < 0)
                return r;
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return 1;
}

/* RFC 7386 over target, an object; patch is an object too. */
static int merge_patch(json_t *target, json_t *patch) {
        const char *key;
        json_t *value;

        json_object_foreach(patch, key, value) {
                if (json_is_null(value)) {
                        (void) json_object_del(target, key);
                } else if (json_is_object(value)) {
                        json_t *t = json_object_get(target, key);
                        int r;

                        if (!json_is_object(t)) {
                                t = json_object();
                                if (!t || json_object_set_new(target, key, t) < 0)
                                        return -ENOMEM;
                        }
                        r = merge_patch(t, value);
                        if (r < 0)
                                return r;
                } else if (json_object_set(target, key, value) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Every problem added since n_before gets "SOURCE: " in front of its path. */
static int prefix_problems(ProblemList *problems, size_t n_before, const char *source) {
        for (size_t i = n_before; i < problems->n; i++) {
                Problem *pr = &problems->items[i];
                char *p;

                if (asprintf(&p, "%s: %s", source, pr->path && pr->path[0] ? pr->path : ".") < 0) {
                        p = NULL;
                        return -ENOMEM;
                }
                free(pr->path);
                pr->path = p;
        }
        return 0;
}

void provisioned_answer_done(ProvisionedAnswer *a) {
        if (!a)
                return;
        config_free(a->config);
        free(a->text);
        answer_binding_done(&a->binding);
        *a = (ProvisionedAnswer) {};
}

/* A null would remove the member in the merge (RFC 7386), leaving a node with no id. Any other
 * value is judged with the rest when the merged result is parsed. */
static int check_node_id(json_t *answer, ProblemList *problems) {
        json_t *v = json_object_get(answer, "node_id");
        int r;

        if (v && !json_is_null(v))
                return 0;
        r = problem_add(problems, ".node_id", "the node's id: an answer names the node it is for",
                        v ? "null" : "nothing", "add \"node_id\" to the node's configuration on the provisioning server");
        return r < 0 ? r : -EINVAL;
}

static int build(const ProvisioningConfig *pc, const AnswerCheck *check, const char *answer, size_t size,
                 const char *path, ProvisionedAnswer *ret, ProblemList *problems) {
        _cleanup_(json_decrefp) json_t *patch = NULL, *merged = NULL;
        _cleanup_(provisioned_answer_done) ProvisionedAnswer a = {};
        _cleanup_free_ char *found = NULL;
        json_error_t err;
        int r;

        patch = json_loadb(answer, size, JSON_REJECT_DUPLICATES, &err);
        if (!patch) {
                if (json_error_code(&err) == json_error_out_of_memory)
                        return -ENOMEM;
                if (asprintf(&found, "a syntax error at line %d, column %d: %s", err.line, err.column,
                             err.text) < 0) {
                        found = NULL;
                        return -ENOMEM;
                }
                string_make_printable(found);   /* jansson quotes the input near the error */
                r = problem_add(problems, "", "a JSON object (the node's configuration)", found,
                                "serve the node's cluster-config.json, or the members that complete the image's");
                return r < 0 ? r : -EINVAL;
        }
        if (!json_is_object(patch)) {
                r = json_add_problem(problems, "", "a JSON object (the node's configuration)", patch, NULL);
                return r < 0 ? r : -EINVAL;
        }
        r = check_node_id(patch, problems);
        if (r < 0)
                return r;

        /* Which machine it is for, and until when: taken out before it becomes configuration. */
        r = answer_binding_check(patch, check, &a.binding, problems);
        if (r < 0)
                return r == -EINVAL ? -EKEYREJECTED : r;

        merged = pc->template ? json_deep_copy(pc->template) : json_object();
        if (!merged)
                return -ENOMEM;
        r = merge_patch(merged, patch);
        if (r < 0)
                return r;
        /* An answer that changes the step plan is refused as that, whether or not it parses. */
        r = answer_policy_changes_plan(pc->template, merged);
        if (r != 0) {
                r = r < 0 ? r : answer_policy_check(pc->template, merged, pc->allow, problems);
                return r < 0 ? r : -EPERM;
        }
        a.text = json_dumps(merged, JSON_INDENT(2));
        if (!a.text)
                return -ENOMEM;
        r = config_parse(a.text, strlen(a.text), path, &a.config, problems);
        if (r < 0)
                return r;

        /* A valid result may still change what the image keeps (a typo is named above instead). */
        r = answer_policy_check(pc->template, merged, pc->allow, problems);
        if (r < 0)
                return r;
        if (r > 0)
                return -EPERM;

        /* With a final newline, as a person would write the file. */
        size_t n = strlen(a.text);
        char *t = realloc(a.text, n + 2);
        if (!t)
                return -ENOMEM;
        a.text = t;
        memcpy(a.text + n, "\n", 2);

        *ret = a;
        a = (ProvisionedAnswer) {};
        return 0;
}

int config_provisioned_build(const ProvisioningConfig *pc, const AnswerCheck *check, const char *answer,
                             size_t size, const char *source, const char *path, ProvisionedAnswer *ret,
                             ProblemList *problems) {
        size_t n_before = problems->n;
        int r, q;

        r = build(pc, check, answer, size, path, ret, problems);
        if (r < 0 && r != -ENOMEM && problems->n > n_before) {
                q = prefix_problems(problems, n_before, source);
                if (q < 0)
                        return q;
        }
        return r;
}
