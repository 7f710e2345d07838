/* SPDX-License-Identifier: MIT */
/* libFuzzer target: arbitrary bytes as a provisioning server's answer, merged over a template,
 * with the binding ("match", "not_after") and the allow-list checked. Every input must end in
 * either a node's configuration with its text, or a list of problems, each of which formats to
 * one line, with nothing leaked. Each input is tried signed and unsigned, with the clock after
 * and before the build time: what a signed answer passes an unsigned one passes, and what a
 * trusted clock passes an untrusted one passes. An accepted answer is held to a second reading
 * of the allow-list, written apart from it: with every member the default list and the
 * template's provisioning.allow name taken out of both, the stored configuration is the
 * template. The allow-list comparison and the allow path check also run on the input alone. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-answer-policy.h"
#include "config-load.h"
#include "config-provisioned.h"

#define TEMPLATE                                                                                \
        "{\"cluster_name\": \"prod\", \"leader_url\": \"https://10.0.1.10:2379\", "             \
        "\"tls\": {\"enabled\": true}, \"network\": {\"cluster\": \"10.0.0.0/8\"}, "            \
        "\"services\": {\"chainfire\": {\"driver\": \"etcd\"}, \"k3s\": {\"driver\": \"k3s\", "          \
        "\"server\": \"https://10.0.1.10:6443\", \"enabled\": false}}, "                          \
        "\"provisioning\": {\"url\": \"https://prov/v1/node\", "                                 \
        "\"allow\": [\".services.*.health_url\", \".report\", \".iam.roles\"]}}"
#define NOW (1800000000ULL * USEC_PER_SEC)
#define FLOOR (1700000000ULL * USEC_PER_SEC)

static char *macs[] = { (char *) "52:54:00:12:34:56", (char *) "52:54:00:fb:a0:04", NULL };
static char *disks[] = { (char *) "S4EWNX0R123456", NULL };
static const MachineIds machine = {
        .macs = macs, .uuid = "6c1c0b3e-0000-4000-8000-000000000004", .serial = "SN-0004", .disk_serials = disks,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lines(const ProblemList *problems) {
        for (size_t i = 0; i < problems->n; i++) {
                char *line = problem_format(&problems->items[i]);

                if (line && strchr(line, '\n'))
                        abort();
                free(line);
        }
}

/* Takes out of o the members path (".a.*.b") names; an object emptied by that goes too. */
static void prune(json_t *o, const char *path) {
        const char *seg = path + 1, *next = seg + strcspn(seg, ".");
        size_t n = (size_t) (next - seg);
        bool any = n == 1 && seg[0] == '*';
        const char *key;
        json_t *v;
        void *tmp;

        if (!json_is_object(o))
                return;
        json_object_foreach_safe(o, tmp, key, v) {
                if (!any && !(strlen(key) == n && strncmp(key, seg, n) == 0))
                        continue;
                if (!*next) {
                        json_object_del(o, key);
                        continue;
                }
                if (json_is_object(v) && json_object_size(v) > 0) {
                        prune(v, next);
                        if (json_object_size(v) == 0)
                                json_object_del(o, key);
                }
        }
}

static void prune_allowed(json_t *o, char *const *allow) {
        for (const char *const *p = answer_policy_default; *p; p++)
                prune(o, *p);
        for (char *const *p = allow; p && *p; p++)
                prune(o, *p);
}

/* What the answer changed beyond what the image lets it: nothing, or abort. */
static void check_kept(const ProvisioningConfig *pc, const char *text) {
        json_t *stored = json_loads(text, 0, NULL), *template = json_deep_copy(pc->template);

        if (!stored || !template)
                abort();
        prune_allowed(stored, pc->allow);
        prune_allowed(template, pc->allow);
        if (!json_equal(stored, template))
                abort();
        json_decref(stored);
        json_decref(template);
}

/* One try: returns the result, with its invariants checked. */
static int try(const Config *template, const uint8_t *data, size_t size, bool signed_answer, bool clock_ok) {
        AnswerCheck check = {
                .machine = &machine,
                .require_match = signed_answer,
                .now = clock_ok ? NOW : FLOOR - USEC_PER_SEC,
                .clock_floor = FLOOR,
        };
        ProvisionedAnswer a = {};
        ProblemList problems = {};
        json_t *stored;
        int r;

        r = config_provisioned_build(template->provisioning, &check, (const char *) data, size, "the answer",
                                     "/var/lib/fba/cluster-config.json", &a, &problems);
        if (r == 0) {
                if (!a.config || !a.text || !a.config->node_id || problems.n > 0)
                        abort();
                if (signed_answer && !a.binding.matched)
                        abort();
                stored = json_loads(a.text, 0, NULL);
                if (stored && (json_object_get(stored, "match") || json_object_get(stored, "not_after")))
                        abort();
                json_decref(stored);
                check_kept(template->provisioning, a.text);
        } else if (r == -EINVAL || r == -EKEYREJECTED || r == -EPERM) {
                if (a.config || a.text || problems.n == 0)
                        abort();
        } else if (r != -ENOMEM)
                abort();
        check_lines(&problems);
        provisioned_answer_done(&a);
        problem_list_done(&problems);
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Config *template;
        ProblemList problems = {};
        json_t *merged;
        char path[256];
        const char *hint = NULL;
        int r_signed, r_unsigned, r_wrong_clock;

        if (!template) {
                setenv("FIRST_BOOT_AGENT_PROC_CMDLINE", "/dev/null", 1);
                if (config_parse(TEMPLATE, strlen(TEMPLATE), "t.json", &template, &problems) < 0 ||
                    !template->provisioning)
                        abort();
        }
        if (size > 64 * 1024)
                return 0;

        r_signed = try(template, data, size, true, true);
        r_unsigned = try(template, data, size, false, true);
        r_wrong_clock = try(template, data, size, false, false);
        if (r_signed == 0 && r_unsigned != 0)
                abort();
        if (r_unsigned == 0 && r_wrong_clock != 0)
                abort();

        /* The comparison alone, with the input as the merged document. */
        merged = json_loadb((const char *) data, size, 0, NULL);
        if (merged) {
                int n = answer_policy_check(template->provisioning->template, merged, template->provisioning->allow,
                                            &problems);

                if (n != -ENOMEM && (n < 0 || (size_t) n != problems.n))
                        abort();
                if (json_equal(merged, template->provisioning->template) && n != 0)
                        abort();
                check_lines(&problems);
                problem_list_done(&problems);
                json_decref(merged);
        }

        /* The input as a provisioning.allow entry. */
        memcpy(path, data, MIN(size, sizeof(path) - 1));
        path[MIN(size, sizeof(path) - 1)] = '\0';
        if (!answer_policy_path_is_valid(path, &hint) && !hint)
                abort();
        return 0;
}
