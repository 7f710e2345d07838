/* SPDX-License-Identifier: MIT */
/* libFuzzer target: arbitrary bytes as a provisioning server's answer, merged over a template.
 * Every input must end in either a node's configuration with its text, or a list of problems,
 * each of which formats to one line, with nothing leaked. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-load.h"
#include "config-provisioned.h"

#define TEMPLATE                                                                                \
        "{\"cluster_name\": \"prod\", \"leader_url\": \"https://10.0.1.10:2379\", "             \
        "\"tls\": {\"enabled\": true}, \"network\": {\"cluster\": \"10.0.0.0/8\"}, "            \
        "\"provisioning\": {\"url\": \"https://prov/v1/node\"}}"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Config *template;
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *text = NULL;
        ProblemList problems = {};
        int r;

        if (!template) {
                setenv("FIRST_BOOT_AGENT_PROC_CMDLINE", "/dev/null", 1);
                if (config_parse(TEMPLATE, strlen(TEMPLATE), "t.json", &template, &problems) < 0 ||
                    !template->provisioning)
                        abort();
        }
        if (size > 64 * 1024)
                return 0;

        r = config_provisioned_build(template->provisioning, (const char *) data, size, "the answer",
                                     "/var/lib/fba/cluster-config.json", &c, &text, &problems);
        if (r == 0 && (!c || !text || !c->node_id || problems.n > 0))
                abort();
        if (r == -EINVAL && (c || text || problems.n == 0))
                abort();

        for (size_t i = 0; i < problems.n; i++) {
                char *line = problem_format(&problems.items[i]);

                if (line && strchr(line, '\n'))
                        abort();
                free(line);
        }
        problem_list_done(&problems);
        return 0;
}
