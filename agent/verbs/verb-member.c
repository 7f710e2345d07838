/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "exit-code.h"
#include "http.h"
#include "log.h"
#include "member.h"
#include "rotation.h"
#include "service-kind.h"
#include "strv.h"
#include "verbs.h"

/* "member list|add|remove": the membership calls an operator used to make with curl, with the
 * configuration's CA, client certificate, timeouts and addresses. */

typedef struct MemberVerb {
        Config *config;
        const char *service_name;       /* --service, default chainfire */
        const ServiceConfig *sc;
        const MemberDriver *driver;
        HttpClient *http;
        char **urls;                    /* leader (or --url) first, then the peers */
        bool url_given;
        bool json;
        bool client_cert_required;      /* a server sent TLS's "certificate required" alert */
} MemberVerb;

static void member_verb_done(MemberVerb *m) {
        http_client_free(m->http);
        strv_free(m->urls);
        config_free(m->config);
}

static void help(void) {
        printf("Usage: first-boot-agent [--config FILE] member [OPTIONS] COMMAND\n\n"
               "List, add or remove members of a cluster service by hand, with the addresses, CA,\n"
               "client certificate and timeouts of the configuration.\n\n"
               "Commands:\n"
               "  list                   show the members: ID, raft address, status\n"
               "  add [ID [RAFT_ADDR]]   add a member (default: this node's node_id and the\n"
               "                         service's raft_addr from the configuration)\n"
               "  remove ID              remove a member (etcd: its name, or its ID in hex or decimal)\n\n"
               "Options:\n"
               "  -s, --service NAME     a service of the configuration with a member list (driver\n"
               "                         admin or etcd; default: chainfire)\n"
               "  -u, --url URL          ask this server instead of the service's leader; no fallback\n"
               "  -d, --driver NAME      admin (the services' /admin API) or etcd (etcd's v3 gateway);\n"
               "                         default: the service's \"driver\" in the configuration\n"
               "      --json             list: print JSON instead of a table\n"
               "      --list-services    print the services --service accepts, one per line\n"
               "  -h, --help             show this help\n\n"
               "When the leader does not answer, list and add ask the service's other peers in order.\n"
               "Exit codes: 0 done (\"already a member\" too), 2 usage, 3 configuration, 4 no server\n"
               "answered or the answer was not understood, 5 refused by the server.\n");
}

static int setup(MemberVerb *m, const GlobalOptions *g, const char *url, int driver) {
        const TlsConfig *tls;
        TlsOptions o;
        int r;

        r = verbs_config_load(g, &m->config);
        if (r != EXIT_OK)
                return r;
        /* One pass over the servers: an operator at the keyboard waits for no backoff. */
        m->config->timeouts.join_attempts = 1;
        log_set_node_id(m->config->node_id);
        tls = &m->config->tls;

        m->sc = config_service(m->config, m->service_name);
        m->driver = m->sc ? member_driver_get(driver >= 0 ? (ServiceKind) driver : m->sc->kind) : NULL;
        if (!m->driver) {
                _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
                _cleanup_free_ char *list = NULL;

                CONFIG_FOREACH_SERVICE(s, m->config)
                        if (member_driver_get(s->kind) && strv_extend(&names, s->name) < 0)
                                return log_oom(), EXIT_INTERNAL;
                list = strv_join(names, ", ");
                log_error("%s '%s' names no service with a member list: expected one of %s (the services of "
                          "'%s' whose driver is admin or etcd).", m->sc ? "The service" : "--service",
                          m->service_name, strna(list), strna(m->config->path));
                return EXIT_USAGE;
        }

        if (url) {
                m->url_given = true;
                if (strv_extend(&m->urls, url) < 0)
                        return log_oom(), EXIT_INTERNAL;
        } else {
                if (!m->sc->leader_url) {
                        log_error("The configuration names no leader for %s (leader_url); give the server with --url.",
                                  m->service_name);
                        return EXIT_USAGE;
                }
                if (strv_extend(&m->urls, m->sc->leader_url) < 0)
                        return log_oom(), EXIT_INTERNAL;
                STRV_FOREACH(p, m->sc->peer_urls)
                        if (!strv_contains(m->urls, *p) && strv_extend(&m->urls, *p) < 0)
                                return log_oom(), EXIT_INTERNAL;
        }

        o = (TlsOptions) {
                .ca_file = tls->ca_cert_path,
                .cert_file = tls->node_cert_path && tls->node_key_path ? tls->node_cert_path : NULL,
                .key_file = tls->node_cert_path && tls->node_key_path ? tls->node_key_path : NULL,
                .insecure = tls->insecure_skip_verify,
        };
        r = http_client_new(&o, (long) (m->config->timeouts.connect / USEC_PER_MSEC),
                            (long) (m->config->timeouts.request / USEC_PER_MSEC), &m->http);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the HTTP client: %m"), EXIT_INTERNAL;

        if (http_client_is_insecure(m->http))
                log_event(LOG_WARNING, MID_TLS_INSECURE,
                          LOG_FIELDS("SERVICE", m->service_name, "URL", m->urls[0]),
                          "TLS certificate verification is off (tls.insecure_skip_verify): the answers of %s "
                          "are not authenticated and anyone on the path can pose as the cluster. "
                          "Set tls.ca_cert_path and remove the option.",
                          m->service_name);
        return EXIT_OK;
}

/* Logs why a request to url failed and returns the exit code for it. */
static int failure(MemberVerb *m, const char *url, const char *what, int r, const HttpResponse *resp) {
        const TlsConfig *tls = &m->config->tls;
        char reason[256];

        http_response_reason(resp, reason, sizeof reason);
        if (strstr(resp->error, "certificate required"))
                m->client_cert_required = true;

        switch (-r) {
        case EBADE:
                log_event_errno(LOG_ERR, r, what && streq(what, "add") ? MID_JOIN_REFUSED : NULL,
                                LOG_FIELDS("SERVICE", m->service_name, "URL", url,
                                           "HTTP_STATUS", FMT_INT(resp->status), "ERROR", reason),
                                "%s refused the %s request with HTTP %ld: %s",
                                url, what, resp->status, reason);
                return EXIT_STEP_REFUSED;
        case EKEYREJECTED:
                if (tls->ca_cert_path)
                        log_error("The TLS certificate of %s is not trusted: %s. It must be signed by the CA in '%s' "
                                  "(tls.ca_cert_path); check that file, or the server's certificate.",
                                  url, reason, tls->ca_cert_path);
                else
                        log_error("The TLS certificate of %s is not trusted by the system's CA store: %s. "
                                  "Set tls.ca_cert_path to the cluster's CA certificate.", url, reason);
                return EXIT_STEP_FAILED;
        case ENOENT:
                log_error("Failed to load the TLS files (tls.ca_cert_path '%s', tls.node_cert_path '%s', "
                          "tls.node_key_path '%s'): %s. Check that they exist and are PEM files.",
                          strna(tls->ca_cert_path), strna(tls->node_cert_path), strna(tls->node_key_path), reason);
                return EXIT_CONFIG;
        case EINVAL:
                log_error("The URL '%s' cannot be used: %s. Only http:// and https:// URLs work.", url, reason);
                return m->url_given ? EXIT_USAGE : EXIT_CONFIG;
        case EBADMSG:
                log_error("The answer of %s to the %s request was not understood (HTTP %ld): %s. "
                          "Is it the %s API (--driver)?", url, what, resp->status, reason, m->driver->name);
                return EXIT_STEP_FAILED;
        case ENOMEM:
                log_oom();
                return EXIT_INTERNAL;
        default:
                /* A server that wants a client certificate either sends TLS 1.3's "certificate
                 * required" alert or, as often, just resets the connection first. */
                if (startswith(url, "https://") && !tls->node_cert_path && m->client_cert_required)
                        log_error_errno(r, "%s requires a client certificate (%s). Set tls.node_cert_path and "
                                        "tls.node_key_path to this node's certificate and key.", url, reason);
                else if (startswith(url, "https://") && !tls->node_cert_path && (r == -EPROTO || r == -ECONNRESET))
                        log_error_errno(r, "%s did not answer the %s request: %s. If it requires a client "
                                        "certificate (mTLS), set tls.node_cert_path and tls.node_key_path.",
                                        url, what, reason);
                else
                        log_error_errno(r, "%s did not answer the %s request: %s", url, what, reason);
                return EXIT_STEP_FAILED;
        }
}

/* One request of list or add to one server. */
typedef int (*TryFunction)(MemberVerb *m, const char *url, void *userdata, HttpResponse *resp);

typedef struct Try {
        MemberVerb *m;
        TryFunction fn;
        void *userdata;
        HttpResponse resp;              /* the last answer (or transport error) */
        int error;                      /* of the last request, 0 when it succeeded */
        const char *url;                /* of the last request */
} Try;

static int try_one(StepContext *ctx, RotationServer *srv, void *userdata) {
        Try *t = userdata;
        int r;

        http_response_done(&t->resp);
        t->url = srv->url;
        r = t->error = t->fn(t->m, srv->url, t->userdata, &t->resp);
        if (r < 0 && strstr(t->resp.error, "certificate required"))
                t->m->client_cert_required = true;
        if (r < 0)
                rotation_record(srv, r, &t->resp);
        return r;
}

/* Asks the leader (or --url), then the peers, one request each, as the join steps do (rotation.h:
 * a "not the leader" answer is followed to the leader it names, when that may be followed; a
 * refusal ends it), in a single round: an operator waits for no backoff. Returns fn's result;
 * t->url is the server that answered (or the last one asked), t->resp its answer. */
static int try_urls(MemberVerb *m, const char *what, TryFunction fn, void *userdata, Try *t) {
        StepContext ctx = { .config = m->config, .http = m->http };
        _cleanup_(rotation_done) Rotation rot = {};
        int r;

        *t = (Try) { .m = m, .fn = fn, .userdata = userdata, .url = m->urls[0] };
        rotation_init(&rot, m->urls[0], m->urls + 1);
        r = rotation_run(&ctx, &rot, m->service_name, what, try_one, t, NULL);
        /* The rounds ran out: the last server's own error says more than "timed out". */
        if (r == -ETIMEDOUT && t->error < 0)
                r = t->error;
        return r;
}

static int do_list(MemberVerb *m, const char *url, void *userdata, HttpResponse *resp) {
        return m->driver->list(m->http, url, userdata, resp);
}

static bool show_names(const MemberList *l) {
        for (size_t i = 0; i < l->n; i++)
                if (!l->items[i].name || !streq(l->items[i].name, l->items[i].id))
                        return true;
        return false;
}

static int print_json(MemberVerb *m, const MemberList *l, const char *url) {
        json_t *j, *a;
        int r = 0;

        a = json_array();
        j = json_pack("{s:s, s:s, s:s, s:b, s:o}", "service", m->service_name, "driver", m->driver->name,
                      "url", url, "leader_answered", streq(url, m->urls[0]), "members", a);
        if (!j)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                const Member *x = l->items + i;

                if (json_array_append_new(a, json_pack("{s:s, s:s?, s:s?, s:s?}", "id", x->id, "name", x->name,
                                                       "raft_addr", x->raft_addr, "status", x->status)) < 0)
                        r = -ENOMEM;
        }
        if (r >= 0 && json_dumpf(j, stdout, JSON_INDENT(2)) < 0)
                r = -EIO;
        json_decref(j);
        putchar('\n');
        return r;
}

static void print_table(const MemberList *l) {
        bool names = show_names(l);
        int wi = 2, wn = 4, wa = 12;

        for (size_t i = 0; i < l->n; i++) {
                const Member *x = l->items + i;

                wi = MAX(wi, (int) strlen(x->id));
                wn = MAX(wn, (int) strlen(strna(x->name)));
                wa = MAX(wa, (int) strlen(strna(x->raft_addr)));
        }
        if (names)
                printf("%-*s  %-*s  %-*s  %s\n", wi, "ID", wn, "NAME", wa, "RAFT ADDRESS", "STATUS");
        else
                printf("%-*s  %-*s  %s\n", wi, "ID", wa, "RAFT ADDRESS", "STATUS");
        for (size_t i = 0; i < l->n; i++) {
                const Member *x = l->items + i;

                if (names)
                        printf("%-*s  %-*s  %-*s  %s\n", wi, x->id, wn, x->name ?: "-", wa,
                               x->raft_addr ?: "-", x->status ?: "-");
                else
                        printf("%-*s  %-*s  %s\n", wi, x->id, wa, x->raft_addr ?: "-", x->status ?: "-");
        }
}

static int verb_list(MemberVerb *m) {
        _cleanup_(member_list_done) MemberList l = {};
        const char *url;
        Try t;
        int r, ret;

        r = try_urls(m, "list", do_list, &l, &t);
        url = t.url;
        if (r < 0) {
                ret = failure(m, url, "list", r, &t.resp);
                if (curl_util_error_is_transient(r) && strv_length(m->urls) > 1)
                        log_error("No server of %s answered (%zu tried).", m->service_name, strv_length(m->urls));
                http_response_done(&t.resp);
                return ret;
        }
        http_response_done(&t.resp);

        log_event(streq(url, m->urls[0]) ? LOG_DEBUG : LOG_NOTICE, NULL,
                  LOG_FIELDS("SERVICE", m->service_name, "URL", url),
                  "%s has %zu member%s (answered by %s%s).", m->service_name, l.n, l.n == 1 ? "" : "s", url,
                  streq(url, m->urls[0]) ? "" : ", not the leader");

        if (m->json)
                r = print_json(m, &l, url);
        else {
                print_table(&l);
                if (!streq(url, m->urls[0]))
                        printf("(answered by %s: %s did not answer)\n", url, m->urls[0]);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to print the member list: %m"), EXIT_INTERNAL;
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_INTERNAL;
}

typedef struct AddArgs {
        const char *id;
        const char *raft_addr;
} AddArgs;

static int do_add(MemberVerb *m, const char *url, void *userdata, HttpResponse *resp) {
        AddArgs *a = userdata;

        return m->driver->add(m->http, url, a->id, a->raft_addr, m->config->tls.enabled ? MEMBER_ADD_TLS : 0, resp);
}

static int verb_add(MemberVerb *m, const char *id, const char *raft_addr) {
        _cleanup_free_ char *host = NULL;
        const char *url;
        uint16_t port;
        Try t;
        int r, ret;

        id = id ?: m->config->node_id;
        raft_addr = raft_addr ?: m->sc->raft_addr;
        if (!id || !*id) {
                log_error("No member ID given and none in the configuration (node_id).");
                return EXIT_USAGE;
        }
        if (!raft_addr || parse_host_port(raft_addr, &host, &port) < 0) {
                log_error("The raft address '%s' is not HOST:PORT.", strna(raft_addr));
                return EXIT_USAGE;
        }

        r = try_urls(m, "add", do_add, &(AddArgs) { id, raft_addr }, &t);
        url = t.url;
        if (r < 0) {
                ret = failure(m, url, "add", r, &t.resp);
                if (curl_util_error_is_transient(r) && strv_length(m->urls) > 1)
                        log_error("No server of %s answered (%zu tried).", m->service_name, strv_length(m->urls));
                http_response_done(&t.resp);
                return ret;
        }

        if (r == MEMBER_EXISTS) {
                log_event(LOG_INFO, MID_MEMBER_ALREADY,
                          LOG_FIELDS("SERVICE", m->service_name, "MEMBER_ID", id, "RAFT_ADDR", raft_addr, "URL", url,
                                     "HTTP_STATUS", FMT_INT(t.resp.status)),
                          "%s (%s) is already a member of %s (%s).", id, raft_addr, m->service_name, url);
                printf("already a member: %s (%s) in %s, answered by %s\n", id, raft_addr, m->service_name, url);
        } else {
                log_event(LOG_NOTICE, MID_MEMBER_CHANGED,
                          LOG_FIELDS("SERVICE", m->service_name, "MEMBER_ID", id, "RAFT_ADDR", raft_addr, "URL", url,
                                     "HTTP_STATUS", FMT_INT(t.resp.status)),
                          "Added %s (%s) to %s through %s.", id, raft_addr, m->service_name, url);
                printf("added: %s (%s) to %s, answered by %s\n", id, raft_addr, m->service_name, url);
        }
        http_response_done(&t.resp);
        return EXIT_OK;
}

static int verb_remove(MemberVerb *m, const char *id) {
        HttpResponse resp = {};
        const char *url = m->urls[0];
        int r, ret;

        r = m->driver->remove(m->http, url, id, &resp);
        if (r == -ESRCH) {
                log_error("The %s cluster at %s has no member named '%s' or with that ID; "
                          "\"first-boot-agent member list\" shows them.", m->service_name, url, id);
                http_response_done(&resp);
                return EXIT_STEP_REFUSED;
        }
        if (r < 0) {
                ret = failure(m, url, "remove", r, &resp);
                http_response_done(&resp);
                return ret;
        }

        log_event(LOG_NOTICE, MID_MEMBER_CHANGED,
                  LOG_FIELDS("SERVICE", m->service_name, "MEMBER_ID", id, "URL", url,
                             "HTTP_STATUS", FMT_INT(resp.status)),
                  "Removed %s from %s through %s.", id, m->service_name, url);
        printf("removed: %s from %s, answered by %s\n", id, m->service_name, url);
        http_response_done(&resp);
        return EXIT_OK;
}

/* The services "--service" accepts, one per line (for the shell's completion). */
static int list_services(const GlobalOptions *g) {
        _cleanup_(config_freep) Config *c = NULL;
        int r;

        r = verbs_config_load_quiet(g, &c);
        if (r < 0)
                return EXIT_CONFIG;
        CONFIG_FOREACH_SERVICE(s, c)
                if (member_driver_get(s->kind))
                        printf("%s\n", s->name);
        return EXIT_OK;
}

int verb_member(int argc, char *argv[], const GlobalOptions *g) {
        enum { ARG_JSON = 0x100, ARG_LIST_SERVICES };
        static const struct option options[] = {
                { "service", required_argument, NULL, 's' },
                { "url",     required_argument, NULL, 'u' },
                { "driver",  required_argument, NULL, 'd' },
                { "json",    no_argument,       NULL, ARG_JSON },
                { "list-services", no_argument, NULL, ARG_LIST_SERVICES },
                { "help",    no_argument,       NULL, 'h' },
                {}
        };
        _cleanup_(member_verb_done) MemberVerb m = { .service_name = "chainfire" };
        const char *url = NULL, *cmd;
        int c, driver = -1, r;
        size_t nargs;

        while ((c = getopt_long(argc, argv, "hs:u:d:", options, NULL)) >= 0)
                switch (c) {
                case 's':
                        m.service_name = optarg;
                        break;
                case 'u':
                        if (!startswith(optarg, "http://") && !startswith(optarg, "https://")) {
                                fprintf(stderr, "The --url '%s' must start with http:// or https://.\n", optarg);
                                return EXIT_USAGE;
                        }
                        url = optarg;
                        break;
                case 'd':
                        driver = service_kind_from_string(optarg);
                        if (driver < 0 || !member_driver_get((ServiceKind) driver)) {
                                fprintf(stderr, "Unknown --driver '%s': expected admin or etcd.\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_JSON:
                        m.json = true;
                        break;
                case ARG_LIST_SERVICES:
                        return list_services(g);
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'first-boot-agent member --help'.\n");
                        return EXIT_USAGE;
                }

        if (optind >= argc) {
                fprintf(stderr, "No command given: list, add or remove. Try 'first-boot-agent member --help'.\n");
                return EXIT_USAGE;
        }
        cmd = argv[optind];
        nargs = (size_t) (argc - optind - 1);
        if (!streq(cmd, "list") && !streq(cmd, "add") && !streq(cmd, "remove")) {
                fprintf(stderr, "Unknown member command '%s': expected list, add or remove.\n", cmd);
                return EXIT_USAGE;
        }
        if ((streq(cmd, "list") && nargs > 0) || (streq(cmd, "add") && nargs > 2) ||
            (streq(cmd, "remove") && nargs != 1)) {
                fprintf(stderr, "Usage: first-boot-agent member %s. Try 'first-boot-agent member --help'.\n",
                        streq(cmd, "list") ? "list" : streq(cmd, "add") ? "add [ID [RAFT_ADDR]]" : "remove ID");
                return EXIT_USAGE;
        }
        if (m.json && !streq(cmd, "list")) {
                fprintf(stderr, "--json applies to \"member list\" only.\n");
                return EXIT_USAGE;
        }
        r = setup(&m, g, url, driver);
        if (r != EXIT_OK)
                return r;

        if (streq(cmd, "list"))
                return verb_list(&m);
        if (streq(cmd, "add"))
                return verb_add(&m, nargs > 0 ? argv[optind + 1] : NULL, nargs > 1 ? argv[optind + 2] : NULL);
        return verb_remove(&m, argv[optind + 1]);
}
