/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-flash.h"
#include "config-load.h"
#include "config-provisioning.h"
#include "config.h"
#include "exit-code.h"
#include "json-util.h"
#include "log.h"
#include "service-kind.h"
#include "step.h"
#include "strv.h"
#include "verbs.h"

static void help(void) {
        printf("Usage: first-boot-agent validate [FILE] [--json]\n\n"
               "Checks a configuration file and lists every problem in it, one per line, each with\n"
               "its JSON path, what was expected and what was found.\n\n"
               "FILE defaults to --config, else first_boot_agent.config= on the kernel command line,\n"
               "else " CONFIG_DEFAULT_PATH ".\n\n"
               "Options:\n"
               "      --json   print {\"file\", \"valid\", \"problems\": [...]} on standard output\n"
               "  -h, --help   show this help\n\n"
               "Exit status: 0 valid, 2 usage, 3 problems found, 1 internal error.\n");
}

/* Writes text to f with what a terminal would act on (string_has_control()) escaped as \xNN,
 * line ends kept. The values are checked for control characters, but the file names are not
 * (the command line, a drop-in directory's listing), nor are the texts made of them. */
static void fputs_printable(const char *text, FILE *f) {
        for (const unsigned char *p = (const unsigned char *) text; *p; p++)
                if (*p == '\n' || (*p >= ' ' && *p != 0x7F && !(*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)))
                        fputc(*p, f);
                else if (*p == 0xC2) {
                        fprintf(f, "\\xc2\\x%02x", p[1]);
                        p++;
                } else
                        fprintf(f, "\\x%02x", *p);
}

/* A JSON text as jansson wrote it (C0 controls already escaped) with DEL and the C1 controls
 * escaped too (\u007f, \u0080…): outside its strings a JSON text is ASCII, so the bytes found
 * are inside one. */
static void fputs_json_printable(const char *text, FILE *f) {
        for (const unsigned char *p = (const unsigned char *) text; *p; p++)
                if (*p == 0x7F)
                        fputs("\\u007f", f);
                else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
                        fprintf(f, "\\u%04x", p[1]);
                        p++;
                } else
                        fputc(*p, f);
}

static json_t *string_or_null(const char *s) {
        return s && s[0] ? json_string(s) : json_null();
}

static json_t *int_or_null(int v) {
        return v > 0 ? json_integer(v) : json_null();
}

/* What the valid configuration yields: TLS and its sources, the plan. */
static int add_plan_json(json_t *root, const Config *c) {
        _cleanup_(step_plan_freep) StepPlan *steps = NULL;
        const TlsConfig *t = &c->tls;
        json_t *plan, *tls, *services;
        int r;

        tls = json_pack("{s:b, s:s, s:o, s:s, s:o, s:o, s:s, s:b}",
                        "enabled", t->enabled, "enabled_source", config_source_to_string(t->enabled_source),
                        "ca_cert", string_or_null(t->ca_cert_path), "ca_source", config_source_to_string(t->ca_source),
                        "client_cert", string_or_null(t->node_cert_path), "client_key", string_or_null(t->node_key_path),
                        "client_source", config_source_to_string(t->client_source),
                        "insecure_skip_verify", t->insecure_skip_verify);
        plan = json_array();
        if (!tls || !plan || json_object_set_new(root, "tls", tls) < 0 || json_object_set_new(root, "plan", plan) < 0)
                return -ENOMEM;
        r = step_plan_new(c, &steps);
        if (r < 0)
                return r;
        for (size_t i = 0; i < steps->n; i++) {
                const Step *s = &steps->steps[i];
                const char *why = step_skip_reason(s, c);

                if (json_array_append_new(plan, json_pack("{s:s, s:s?, s:b, s:o}", "step", s->name,
                                                          "service", s->service,
                                                          "applies", !why, "reason", string_or_null(why))) < 0)
                        return -ENOMEM;
        }
        services = json_array();
        if (!services || json_object_set_new(root, "services", services) < 0)
                return -ENOMEM;
        CONFIG_FOREACH_SERVICE(sc, c) {
                _cleanup_free_ char *after = strv_join(sc->after, ", ");

                if (!after || json_array_append_new(services, json_pack("{s:s, s:s, s:b, s:s, s:o}",
                                                    "name", sc->name, "driver", service_kind_to_string(sc->kind),
                                                    "enabled", sc->enabled,
                                                    "enabled_source", config_source_to_string(sc->enabled_source),
                                                    "after", json_string(after))) < 0)
                        return -ENOMEM;
        }
        return json_object_set_new(root, "node_role", json_pack("{s:s, s:s}", "value",
                                   node_role_to_string(c->node_role), "source",
                                   config_source_to_string(c->node_role_source))) < 0 ? -ENOMEM : 0;
}

static int print_json(const char *path, const Config *c, const ProblemList *problems) {
        _cleanup_json_ json_t *root = NULL;
        _cleanup_free_ char *text = NULL;
        json_t *list;

        list = json_array();
        root = json_pack("{s:s, s:b, s:o}", "file", path, "valid", !!c, "problems", list);
        if (!root)
                return -ENOMEM;
        if (c && add_plan_json(root, c) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < problems->n; i++) {
                const Problem *p = &problems->items[i];
                json_t *o;

                o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
                              "file", problem_file(p, path),
                              "path", string_or_null(p->path),
                              "expected", string_or_null(p->expected),
                              "found", string_or_null(p->found),
                              "hint", string_or_null(p->hint),
                              "line", int_or_null(p->line),
                              "column", int_or_null(p->column));
                if (!o || json_array_append_new(list, o) < 0)
                        return -ENOMEM;
        }
        text = json_dumps(root, JSON_INDENT(2));
        if (!text)
                return -ENOMEM;
        fputs_json_printable(text, stdout);
        putchar('\n');
        return 0;
}

static int print_problems(const char *path, const ProblemList *problems) {
        for (size_t i = 0; i < problems->n; i++) {
                _cleanup_free_ char *line = problem_format(&problems->items[i]);

                if (!line)
                        return -ENOMEM;
                fputs_printable(problem_file(&problems->items[i], path), stderr);
                fputs(": ", stderr);
                fputs_printable(line, stderr);
                fputc('\n', stderr);
        }
        return 0;
}

/* "control-plane (the default)" */
static const char *role_text(const Config *c, char *buf, size_t size) {
        snprintf(buf, size, "%s%s", node_role_to_string(c->node_role),
                 c->node_role_source == CONFIG_SOURCE_FILE ? "" : ", the default");
        return buf;
}

/* Who this node is, what it does, and where it will ask to join. */
static void print_identity(FILE *f, const char *path, const Config *c) {
        size_t enabled = 0, leaders = 0;
        char role[64];

        if (c->node_id)
                fprintf(f, "%s: valid: node %s (%s) ", path, c->node_id, role_text(c, role, sizeof role));
        else
                fprintf(f, "%s: valid template: each node looks itself up at %s and ", path,
                        c->provisioning ? c->provisioning->url : "?");
        if (!c->node_id && !c->cluster_name)
                fputs("learns its cluster from the answer", f);
        else if (c->bootstrap)
                fprintf(f, "bootstraps %s%s%s with %zu initial peer%s", c->cluster_name ? "cluster \"" : "its cluster",
                        strempty(c->cluster_name), c->cluster_name ? "\"" : "",
                        strv_length(c->initial_peers), strv_length(c->initial_peers) == 1 ? "" : "s");
        else
                fprintf(f, "joins %s%s%s", c->cluster_name ? "cluster \"" : "its cluster", strempty(c->cluster_name),
                        c->cluster_name ? "\"" : "");

        fputs("; services: ", f);
        CONFIG_FOREACH_SERVICE(s, c)
                if (s->enabled)
                        fprintf(f, "%s%s", enabled++ > 0 ? ", " : "", s->name);
        if (enabled == 0)
                fputs("none", f);

        CONFIG_FOREACH_SERVICE(s, c)
                if (s->enabled && s->leader_url)
                        fprintf(f, "%s%s %s", leaders++ > 0 ? ", " : "; leaders: ", s->name, s->leader_url);

        if (c->flash)
                fprintf(f, "; flash: %zu image%s, %zu firmware", c->flash->n_images,
                        c->flash->n_images == 1 ? "" : "s", c->flash->n_firmware);
        if (c->dropins && c->dropins[0]) {
                fputs("; drop-ins: ", f);
                STRV_FOREACH(d, c->dropins)
                        fprintf(f, "%s%s", d == c->dropins ? "" : ", ", *d);
        }
        fputc('\n', f);
}

/* Which CA and which client identity HTTPS will use, and why. */
static void print_tls(FILE *f, const char *path, const Config *c) {
        const TlsConfig *t = &c->tls;

        fprintf(f, "%s: TLS %s (%s)", path, t->enabled ? "on" : "off", config_source_to_string(t->enabled_source));
        if (t->insecure_skip_verify)
                fputs("; certificates are NOT verified (tls.insecure_skip_verify)", f);
        else if (t->ca_cert_path)
                fprintf(f, "; CA %s (%s)", t->ca_cert_path, config_source_to_string(t->ca_source));
        else
                fputs("; CA: the system's trust store (no tls.ca_cert_path, no ca.crt in tls.secrets_dir)", f);
        if (t->node_cert_path)
                fprintf(f, "; client certificate %s with key %s (%s)", t->node_cert_path, strna(t->node_key_path),
                        config_source_to_string(t->client_source));
        else
                fprintf(f, "; no client certificate (none set, no %s.crt and .key in %s)", strna(c->node_id),
                        strna(t->secrets_dir));
        fputc('\n', f);
}

/* The steps the role and the services yield, and why the others do not apply. */
static void print_plan(FILE *f, const char *path, const Config *c) {
        _cleanup_(step_plan_freep) StepPlan *plan = NULL;
        size_t n = 0, skipped = 0;
        char role[64];

        if (step_plan_new(c, &plan) < 0) {
                log_oom();
                return;
        }
        fprintf(f, "%s: plan (node_role %s): ", path, role_text(c, role, sizeof role));
        for (size_t i = 0; i < plan->n; i++)
                if (!step_skip_reason(&plan->steps[i], c))
                        fprintf(f, "%s%s", n++ > 0 ? " → " : "", plan->steps[i].name);
        if (n == 0)
                fputs("nothing", f);
        fputc('\n', f);
        for (size_t i = 0; i < plan->n; i++) {
                const char *why = step_skip_reason(&plan->steps[i], c);

                if (!why)
                        continue;
                if (skipped++ == 0)
                        fprintf(f, "%s: not applying: ", path);
                else
                        fputs("; ", f);
                fprintf(f, "%s (%s)", plan->steps[i].name, why);
        }
        if (skipped > 0)
                fputc('\n', f);
}

static int print_summary(const char *path, const Config *c) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        print_identity(f, path, c);
        print_tls(f, path, c);
        print_plan(f, path, c);
        if (fclose(f) != 0)
                return -ENOMEM;
        fputs_printable(text, stdout);
        return 0;
}

int verb_validate(int argc, char *argv[], const GlobalOptions *g) {
        enum { ARG_JSON = 0x100 };
        static const struct option options[] = {
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *path = NULL;
        ProblemList problems = {};
        bool json = false;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case ARG_JSON:
                        json = true;
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'first-boot-agent validate --help'.\n");
                        return EXIT_USAGE;
                }

        if (argc - optind > 1) {
                fprintf(stderr, "validate takes at most one FILE, got %d arguments. "
                        "Try 'first-boot-agent validate --help'.\n", argc - optind);
                return EXIT_USAGE;
        }

        r = config_find_path(optind < argc ? argv[optind] : g->config_path, &path);
        if (r < 0) {
                fprintf(stderr, "Failed to choose the configuration file: %s\n", strerror(-r));
                return EXIT_INTERNAL;
        }

        r = config_load(path, &c, &problems);
        if (r == -ENOMEM || (r < 0 && problems.n == 0)) {
                fputs("Failed to check '", stderr);
                fputs_printable(path, stderr);
                fprintf(stderr, "': %s\n", strerror(-r));
                problem_list_done(&problems);
                return EXIT_INTERNAL;
        }

        if (json)
                r = print_json(path, c, &problems);
        else if (!c)
                r = print_problems(path, &problems);
        else
                r = print_summary(path, c);
        problem_list_done(&problems);
        if (r < 0) {
                fprintf(stderr, "Failed to print the result: %s\n", strerror(-r));
                return EXIT_INTERNAL;
        }
        if (fflush(stdout) != 0) {
                fprintf(stderr, "Failed to write to standard output: %m\n");
                return EXIT_INTERNAL;
        }
        return c ? EXIT_OK : EXIT_CONFIG;
}
