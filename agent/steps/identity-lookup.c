/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "config-provisioned.h"
#include "curl-util.h"
#include "digest.h"
#include "fileio.h"
#include "identity-lookup.h"
#include "log.h"
#include "lookup.h"
#include "notify.h"
#include "signature.h"
#include "step-progress.h"
#include "string-util.h"
#include "strv.h"

typedef struct Lookup {
        StepContext *ctx;
        const ProvisioningConfig *pc;
        const Inventory *inv;
        LookupQuery query;
        char **macs;
        char **disk_serials;
        char *macs_text;                /* "52:54:00:12:34:56, …" or "none" */
        HttpClient *http;
        SignatureKey *key;
        LookupResult res;
        bool reported_unknown;
} Lookup;

static void lookup_done(Lookup *l) {
        strv_free(l->macs);
        strv_free(l->disk_serials);
        free(l->macs_text);
        http_client_free(l->http);
        signature_key_free(l->key);
        lookup_result_done(&l->res);
}

static LookupKey lookup_key(ProvisioningKey k) {
        switch (k) {
        case PROVISIONING_KEY_MAC:
                return LOOKUP_KEY_MAC;
        case PROVISIONING_KEY_UUID:
                return LOOKUP_KEY_UUID;
        case PROVISIONING_KEY_SERIAL:
                return LOOKUP_KEY_SERIAL;
        default:
                return LOOKUP_KEY_QUERY;
        }
}

static char *join(char *const *l, const char *empty) {
        _cleanup_free_ char *s = NULL;
        size_t size = 0;
        FILE *f;

        if (!l || !l[0])
                return strdup(empty);
        f = open_memstream(&s, &size);
        if (!f)
                return NULL;
        STRV_FOREACH(i, l)
                fprintf(f, "%s%s", i == l ? "" : ", ", *i);
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(s);
}

/* A refusal: logged with what to do, recorded, -EBADE (exit code 5). */
_printf_(3, 4)
static int refuse(Lookup *l, const char *what_to_do, const char *format, ...) {
        _cleanup_free_ char *why = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&why, format, ap);
        va_end(ap);
        if (r < 0)
                return log_oom();
        step_set_error(l->ctx, "%s", why);
        log_event(LOG_ERR, MID_IDENTITY_REFUSED, LOG_FIELDS("URL", l->res.url ? l->res.url : l->pc->url, "ERROR", why),
                  "Refused the provisioning server's answer: %s. Nothing was stored. %s", why, what_to_do);
        return -EBADE;
}

static int lookup_init(Lookup *l, StepContext *ctx, const Inventory *inv) {
        const Config *c = ctx->config;
        const ProvisioningConfig *pc = c->provisioning;
        TlsOptions tls = { .ca_file = pc->ca_cert_path ? pc->ca_cert_path : c->tls.ca_cert_path };
        int r;

        *l = (Lookup) { .ctx = ctx, .pc = pc, .inv = inv };
        l->macs = inventory_macs(inv);
        l->disk_serials = inventory_disk_serials(inv);
        if (!l->macs || !l->disk_serials)
                return log_oom();
        l->macs_text = join(l->macs, "none");
        if (!l->macs_text)
                return log_oom();
        l->query = (LookupQuery) {
                .macs = l->macs,
                .uuid = inv->system.uuid,
                .serial = inv->system.serial,
                .disk_serials = l->disk_serials,
        };

        r = http_client_new(&tls, (long) (c->timeouts.connect / USEC_PER_MSEC),
                            (long) (c->timeouts.request / USEC_PER_MSEC), &l->http);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the HTTP client for the provisioning server: %m");

        if (pc->public_key) {
                r = signature_key_load(pc->public_key, &l->key);
                if (r < 0) {
                        step_set_error(ctx, "cannot load the public key %s (provisioning.public_key): %s",
                                       pc->public_key, strerror(-r));
                        log_error_errno(r, "Cannot load the public key '%s' (provisioning.public_key): %m. "
                                        "It must be a PEM Ed25519 or RSA public key; put it in the image.",
                                        pc->public_key);
                        return -EBADE;
                }
        } else if (!startswith(pc->url, "https://"))
                /* The configuration's own check refuses this already (config-provisioning.c). */
                return refuse(l, "Write https:// in provisioning.url, or sign the answers and set "
                              "provisioning.public_key.", "the provisioning server %s is not HTTPS and "
                              "provisioning.public_key is not set", pc->url);
        return 0;
}

/* The machine's identifiers as report members. */
static json_t *identifiers_json(const Lookup *l) {
        json_t *macs = json_array(), *disks = json_array();

        STRV_FOREACH(m, l->macs)
                (void) json_array_append_new(macs, json_string(*m));
        STRV_FOREACH(d, l->disk_serials)
                (void) json_array_append_new(disks, json_string(*d));
        return json_pack("{s:o, s:s?, s:s?, s:o}", "macs", macs, "uuid", l->query.uuid,
                         "serial", l->query.serial, "disk_serials", disks);
}

static void report_unknown(Lookup *l, unsigned attempt) {
        _cleanup_(json_decrefp) json_t *fields = NULL;
        const char *url = reporter_url(l->ctx->reporter);
        ReportResult res;
        int r;

        if (!url)
                return;
        fields = json_pack("{s:s, s:o?, s:o?, s:i}", "provisioning_url", l->res.url,
                           "identifiers", identifiers_json(l), "inventory", inventory_to_json(l->inv),
                           "attempt", (int) attempt);
        if (!fields) {
                log_oom();
                return;
        }
        r = report_send(l->ctx->reporter, "identity-unknown", fields, &res);
        if (r >= 0)
                log_event(LOG_INFO, MID_REPORT_SENT, LOG_FIELDS("URL", url, "HTTP_STATUS", FMT_INT(res.status)),
                          "Reported this machine's identifiers to '%s'.", url);
        else
                log_event_errno(LOG_WARNING, r, MID_REPORT_FAILED, LOG_FIELDS("URL", url, "ERROR", res.error),
                                "Could not report this machine's identifiers to '%s': %s.", url, res.error);
}

static void record_unknown(Lookup *l, unsigned attempt) {
        const char *uuid = l->query.uuid ? l->query.uuid : "none";
        const char *serial = l->query.serial ? l->query.serial : "none";
        _cleanup_free_ char *disks = join(l->disk_serials, "none");

        step_set_error(l->ctx, "this machine is unknown to the provisioning server %s (mac %s, uuid %s, serial %s); "
                       "waiting for it to be added", l->pc->url, l->macs_text, uuid, serial);
        notify_status("waiting to be known by %s (mac %s), attempt %u", l->pc->url, l->macs_text, attempt);
        if (l->reported_unknown) {
                log_info("Still unknown to the provisioning server at '%s' (attempt %u).", l->res.url, attempt);
                return;
        }
        l->reported_unknown = true;
        log_event(LOG_WARNING, MID_IDENTITY_UNKNOWN,
                  LOG_FIELDS("URL", l->res.url, "MACS", l->macs_text, "UUID", uuid, "SERIAL", serial,
                             "DISK_SERIALS", disks ? disks : "none"),
                  "This machine is unknown to the provisioning server: %s answered 404 for mac %s, uuid %s, "
                  "serial %s, disk serials %s. Add a group for one of these identifiers on the server; "
                  "the agent keeps asking.", l->res.url, l->macs_text, uuid, serial, disks ? disks : "none");
        report_unknown(l, attempt);
}

/* What the lookup's errno means, as a refusal. */
static int refuse_lookup(Lookup *l, int r) {
        switch (r) {
        case -ENOTUNIQ:
                return refuse(l, "Make exactly one group on the provisioning server match this machine, then "
                              "start the agent again (systemctl restart first-boot-agent).",
                              "the machine matches more than one node: %s", l->res.error);
        case -EFBIG:
                return refuse(l, "Serve a smaller configuration, or raise provisioning.max_size in the image.",
                              "%s sent %s, over provisioning.max_size (%" PRIu64 " bytes)", l->res.url,
                              l->res.error, l->pc->max_size);
        case -ENODATA:
                return refuse(l, "Use a provisioning.url with another placeholder, or the query form.",
                              "%s", l->res.error);
        case -EKEYREJECTED:
                return refuse(l, "Give the server a certificate signed by the image's CA, or put the right CA "
                              "in provisioning.ca_cert_path.",
                              "the certificate of %s is not trusted by the CA %s: %s", l->res.url,
                              l->pc->ca_cert_path ? l->pc->ca_cert_path :
                              l->ctx->config->tls.ca_cert_path ? l->ctx->config->tls.ca_cert_path : "(system store)",
                              l->res.error);
        default:
                return refuse(l, "Correct the provisioning server or provisioning.url, then start the agent again.",
                              "%s answered %s", l->res.url ? l->res.url : l->pc->url,
                              l->res.error[0] ? l->res.error : strerror(-r));
        }
}

/* Asks until the server knows this machine. 0 with the answer in l->res, or negative errno. */
static int ask(Lookup *l) {
        const Config *c = l->ctx->config;
        usec_t start = now_monotonic();
        Backoff b;
        int r;

        backoff_init(&b, c->timeouts.backoff_initial, MAX(l->pc->retry_max, c->timeouts.backoff_initial),
                     step_context_jitter_seed(l->ctx));
        log_info("Looking this machine up at '%s' by mac %s, uuid %s, serial %s.", l->pc->url, l->macs_text,
                 strna(l->query.uuid), strna(l->query.serial));

        for (unsigned attempt = 1;; attempt++) {
                usec_t delay;

                step_count_attempt(l->ctx);
                r = lookup_node(l->http, l->pc->url, lookup_key(l->pc->key), &l->query, l->pc->max_size,
                                l->key != NULL, &l->res);
                if (r >= 0)
                        return 0;
                if (r == -ENOMEM)
                        return log_oom();
                if (r == -ENXIO)
                        record_unknown(l, attempt);
                else if (curl_util_error_is_transient(r)) {
                        step_set_error(l->ctx, "the provisioning server %s: %s", l->res.url, l->res.error);
                        notify_status("provisioning server %s: %s (attempt %u)", l->pc->url, l->res.error, attempt);
                        log_event_errno(LOG_WARNING, r, MID_ATTEMPT_FAILED,
                                        LOG_FIELDS("URL", l->res.url, "ATTEMPT", FMT_INT(attempt),
                                                   "HTTP_STATUS", l->res.status > 0 ? FMT_INT(l->res.status) : NULL,
                                                   "ERROR", l->res.error),
                                        "Lookup attempt %u at '%s' failed: %s. Retrying.", attempt, l->res.url,
                                        l->res.error);
                } else
                        return refuse_lookup(l, r);

                if (l->pc->wait > 0 && now_monotonic() - start >= l->pc->wait) {
                        step_set_error(l->ctx, "%s after %u attempts in %" PRIu64 " s (provisioning.wait_s): %s",
                                       r == -ENXIO ? "still unknown to the provisioning server" :
                                       "the provisioning server did not answer", attempt,
                                       l->pc->wait / USEC_PER_SEC, l->res.error);
                        return log_error_errno(ETIMEDOUT, "Gave up looking this machine up at '%s' after %u attempts "
                                               "(provisioning.wait_s=%" PRIu64 "): %s. The next start asks again.",
                                               l->pc->url, attempt, l->pc->wait / USEC_PER_SEC, l->res.error);
                }
                delay = backoff_next(&b);
                /* Waiting has no end of its own: keep the unit's start from timing out, for the
                 * wait and the next round of requests (one per MAC at most, and a signature). */
                notify_extend_timeout(delay + (strv_length(l->macs) + 2) * c->timeouts.request +
                                      60 * USEC_PER_SEC);
                {
                        char waiting[512];

                        snprintf(waiting, sizeof waiting, "the provisioning server at %.200s to know this machine (%.200s)",
                                 l->pc->url, l->res.error);
                        step_wait(l->ctx, delay, waiting);
                }
        }
}

static int check_signature(Lookup *l) {
        uint8_t digest[DIGEST_SHA256_SIZE];
        _cleanup_free_ char *sig_url = NULL;
        int r;

        if (!l->key)
                return 0;
        r = digest_sha256(l->res.body, l->res.body_size, digest);
        if (r < 0)
                return log_error_errno(r, "Failed to hash the answer: %m");
        r = signature_verify(l->key, digest, l->res.signature, l->res.signature_size);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                sig_url = lookup_signature_url(l->res.url);
                return refuse(l, "Sign the answer with the key whose public half is provisioning.public_key "
                              "(see the README), or correct that key in the image.",
                              "the signature %s does not verify the answer with the %s key %s", strna(sig_url),
                              signature_key_type_to_string(signature_key_type(l->key)), l->pc->public_key);
        }
        return 0;
}

/* Every problem's path without "SOURCE: ", as "a, b, c", for a refusal that names them all. */
static char *problem_paths(const ProblemList *problems, const char *source) {
        _cleanup_free_ char *s = strdup("");

        for (size_t i = 0; s && i < problems->n; i++) {
                const char *p = problems->items[i].path ? problems->items[i].path : "?";
                char *n;

                if (startswith(p, source) && startswith(p + strlen(source), ": "))
                        p += strlen(source) + 2;
                if (asprintf(&n, "%s%s%s", s, i == 0 ? "" : ", ", p) < 0)
                        return NULL;
                free(s);
                s = n;
        }
        return TAKE_PTR(s);
}

static int build_config(Lookup *l, const char *path, ProvisionedAnswer *ret) {
        _cleanup_free_ char *source = NULL, *paths = NULL, *first = NULL;
        const MachineIds ids = {
                .macs = l->macs,
                .uuid = l->query.uuid,
                .serial = l->query.serial,
                .disk_serials = l->disk_serials,
        };
        const AnswerCheck check = {
                .machine = &ids,
                .require_match = l->key != NULL,
                .now = now_realtime(),
                .clock_floor = (usec_t) FBA_BUILD_EPOCH * USEC_PER_SEC,
        };
        ProblemList problems = {};
        size_t n_problems;
        int r;

        if (asprintf(&source, "the answer of %s", l->res.url) < 0) {
                source = NULL;
                return log_oom();
        }
        r = config_provisioned_build(l->pc, &check, l->res.body, l->res.body_size, source, path, ret, &problems);
        if (r == -ENOMEM) {
                problem_list_done(&problems);
                return log_oom();
        }
        for (size_t i = 0; r < 0 && i < problems.n; i++) {
                _cleanup_free_ char *line = problem_format(&problems.items[i]);

                log_error("%s", line ? line : "(out of memory)");
        }
        if (r < 0) {
                paths = problem_paths(&problems, source);
                first = problems.n > 0 ? problem_format(&problems.items[0]) : strdup("?");
        }
        n_problems = problems.n;
        problem_list_done(&problems);
        if (r < 0 && (!paths || !first))
                return log_oom();

        switch (r) {
        case 0:
                break;
        case -EKEYREJECTED:
                /* "the answer of URL: .match.mac: expected this machine's MACs (…), found …; this answer …" */
                return refuse(l, "Serve this machine the answer made for it: its \"match\" naming one of this "
                              "machine's identifiers, its not_after (if any) still ahead (each problem is logged "
                              "above; the README shows how to sign one).",
                              "%s", first);
        case -EPERM:
                return refuse(l, "Remove these members from the node's answer on the provisioning server; or, if the "
                              "image's owner means the server to set them, list them in provisioning.allow in the "
                              "image's template (the README says what each lets the server do).",
                              "the answer of %s changes what the image keeps: %s", l->res.url, paths);
        default:
                return refuse(l, "Correct the node's configuration on the provisioning server (each problem is "
                              "logged above; \"first-boot-agent validate\" checks a file), then start the agent again.",
                              "the configuration from %s has %zu problem%s: %s", l->res.url, n_problems,
                              n_problems == 1 ? "" : "s", paths);
        }

        if (ret->binding.not_after_unchecked) {
                char floor[ISO8601_MAX], now[ISO8601_MAX], until[ISO8601_MAX];

                (void) iso8601_format(check.clock_floor, floor);
                (void) iso8601_format(check.now, now);
                (void) iso8601_format(ret->binding.not_after, until);
                log_warning("The clock says %s, before this agent was built (%s): it is wrong, so the answer's "
                            "not_after (%s) was not checked. Set the clock (NTP, the RTC) to have expiry enforced.",
                            now, floor, until);
        }
        return 0;
}

/* The node the state directory already belongs to must be the one the answer names. */
static int check_state_node(Lookup *l, const Config *c) {
        const char *recorded = l->ctx->state ? l->ctx->state->node_id : NULL;

        if (!recorded || streq(recorded, c->node_id))
                return 0;
        return refuse(l, "If this machine is now that node, clear the old node's progress (\"first-boot-agent reset "
                      "--all\", then remove state.json) and start again; otherwise correct the provisioning server.",
                      "the answer is for node '%s', but the state directory %s records the progress of node '%s'",
                      c->node_id, l->ctx->state_dir, recorded);
}

static int keep(Lookup *l, const char *path, const ProvisionedAnswer *a) {
        _cleanup_free_ char *marker = NULL, *content = NULL, *bound = NULL;
        const char *text = a->text;
        const Config *c = a->config;
        char when[ISO8601_MAX], until[ISO8601_MAX] = "none", hex[DIGEST_SHA256_HEX_SIZE];
        uint8_t digest[DIGEST_SHA256_SIZE];
        int r;

        r = write_file_atomic(path, text, strlen(text), 0600);
        if (r < 0) {
                step_set_error(l->ctx, "cannot store the node's configuration at %s: %s", path, strerror(-r));
                return log_error_errno(r, "Failed to store the node's configuration at '%s': %m", path);
        }

        (void) digest_sha256(l->res.body, l->res.body_size, digest);
        digest_to_hex(digest, sizeof(digest), hex);
        (void) iso8601_format(now_realtime(), when);
        if (a->binding.not_after > 0)
                (void) iso8601_format(a->binding.not_after, until);
        marker = path_join(l->ctx->state_dir, IDENTITY_FETCHED_MARKER);
        if (!marker || asprintf(&content, "%s\nurl=%s\nmatched=%s\nsha256=%s\nnode_id=%s\nbound_to=%s\nnot_after=%s\n",
                                when, l->res.url, l->res.matched, hex, c->node_id, a->binding.matched ? a->binding.matched : "none",
                                until) < 0 ||
            asprintf(&bound, "%s%s%s", a->binding.matched ? ", bound to " : "", strempty(a->binding.matched),
                     a->binding.not_after > 0 ? (a->binding.not_after_unchecked ? ", expiry not checked" :
                                                 ", not expired") : "") < 0) {
                content = bound = NULL;
                return log_oom();
        }
        r = write_file_atomic(marker, content, strlen(content), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write the marker '%s': %m", marker);

        log_set_node_id(c->node_id);
        log_event(LOG_NOTICE, MID_IDENTITY_FOUND,
                  LOG_FIELDS("URL", l->res.url, "MATCHED", l->res.matched,
                             "ANSWER_SHA256", hex, "CONFIG", path, "BOUND_TO", a->binding.matched),
                  "This machine is node '%s': %s answered (matched by %s, SHA-256 %s%s%s). Its configuration is "
                  "stored at '%s' and read from there from now on.", c->node_id, l->res.url, l->res.matched,
                  hex, l->key ? ", signature verified" : "", bound, path);
        return 0;
}

int identity_lookup(StepContext *ctx, const Inventory *inv, Config **ret) {
        _cleanup_(lookup_done) Lookup l = {};
        _cleanup_(provisioned_answer_done) ProvisionedAnswer a = {};
        _cleanup_free_ char *path = NULL;
        int r;

        path = config_provisioned_path(ctx->state_dir);
        if (!path)
                return log_oom();
        r = lookup_init(&l, ctx, inv);
        if (r < 0)
                return r;
        r = ask(&l);
        if (r < 0)
                return r;
        r = check_signature(&l);
        if (r < 0)
                return r;
        r = build_config(&l, path, &a);
        if (r < 0)
                return r;
        r = check_state_node(&l, a.config);
        if (r < 0)
                return r;
        r = keep(&l, path, &a);
        if (r < 0)
                return r;

        if (ctx->state) {
                char *id = strdup(a.config->node_id);

                if (!id)
                        return log_oom();
                free(ctx->state->node_id);
                ctx->state->node_id = id;
                step_context_save(ctx);
        }
        *ret = TAKE_PTR(a.config);
        return 0;
}
