/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config-load.h"
#include "config-provisioned.h"
#include "config-static-network.h"
#include "fileio.h"
#include "hostname.h"
#include "identity-lookup.h"
#include "ifaddr.h"
#include "inventory.h"
#include "log.h"
#include "networkd.h"
#include "step.h"

/* The "identity" step: a node booted from the generic gold image becomes one node.
 *
 *   1. this node's configuration: looked up at the provisioning server by the machine's
 *      identifiers (identity-lookup.c), checked, stored in the state directory and handed to
 *      the steps that follow; never asked for again once stored;
 *   2. the host name (provisioning.hostname): node_fqdn, else node_id, transient and static;
 *   3. the static address (network.static): a systemd-networkd .network file, networkd asked
 *      to apply it, and the address awaited, so the health checks start on the right network.
 *
 * Each phase leaves a marker (.identity-fetched, .hostname-set, .network-configured) saying
 * what it did; the step's own marker (.node-identity) is written by the walk. Phases 2 and 3
 * run again when the step does (after "reset identity"): both are idempotent. */

#define HOSTNAME_MARKER ".hostname-set"
#define NETWORK_MARKER ".network-configured"
#define NETWORK_FILE "10-first-boot-agent.network"

/* A marker with the time on its first line, then lines of what was done. */
_printf_(3, 4)
static int write_record(StepContext *ctx, const char *name, const char *format, ...) {
        _cleanup_free_ char *path = path_join(ctx->state_dir, name), *body = NULL, *text = NULL;
        char when[ISO8601_MAX];
        va_list ap;
        int r;

        if (!path)
                return log_oom();
        va_start(ap, format);
        r = vasprintf(&body, format, ap);
        va_end(ap);
        if (r < 0 || iso8601_format(now_realtime(), when) < 0 || asprintf(&text, "%s\n%s", when, body) < 0) {
                body = text = NULL;
                return log_oom();
        }
        r = write_file_atomic(path, text, strlen(text), 0644);
        if (r < 0) {
                step_set_error(ctx, "cannot write the marker %s: %s", name, strerror(-r));
                return log_error_errno(r, "Failed to write the marker '%s': %m", path);
        }
        return 0;
}

/* This node's configuration in the context: the stored one, or a fresh answer. */
static int node_config(StepContext *ctx, const Inventory *inv) {
        _cleanup_free_ char *path = config_provisioned_path(ctx->state_dir);
        ProblemList problems = {};
        Config *c = NULL;
        int r;

        if (!path)
                return log_oom();
        if (ctx->config->path && streq(ctx->config->path, path)) {
                log_info("This node's configuration was stored before ('%s'): not asking again.", path);
                return 0;
        }
        /* Stored by an earlier run that ended before using it, else a fresh answer. */
        r = config_provisioned_load_stored(ctx->state_dir, &c, NULL, &problems);
        if (r == 0) {
                problem_list_done(&problems);
                r = identity_lookup(ctx, inv, &c);
                if (r < 0)
                        return r;
                return step_context_adopt_config(ctx, c);
        }
        for (size_t i = 0; r < 0 && i < problems.n; i++) {
                _cleanup_free_ char *line = problem_format(&problems.items[i]);

                log_error("%s: %s", path, line ? line : "(out of memory)");
        }
        problem_list_done(&problems);
        if (r < 0) {
                step_set_error(ctx, "the stored configuration %s cannot be used: %s", path, strerror(-r));
                return log_error_errno(r, "The stored configuration '%s' cannot be used: %m. Remove it to look "
                                       "this node up again.", path);
        }
        log_info("Using this node's configuration stored before at '%s'.", path);
        return step_context_adopt_config(ctx, c);
}

static int set_hostname(StepContext *ctx) {
        const Config *c = ctx->config;
        const char *name = c->node_fqdn && strlen(c->node_fqdn) <= HOSTNAME_MAX ? c->node_fqdn : c->node_id;
        const char *setting = name == c->node_fqdn ? "node_fqdn" : "node_id";
        HostnameResult res;
        int r;

        if (!c->provisioning->hostname) {
                log_info("Not setting the host name (provisioning.hostname is false).");
                return 0;
        }
        if (!hostname_is_valid(name)) {
                step_set_error(ctx, "'%s' (%s) is not a valid host name", name, setting);
                return log_error_errno(EBADE, "Cannot use '%s' (%s) as the host name: a host name has letters, digits "
                                       "and '-' in labels separated by dots. Set node_fqdn in the node's configuration.",
                                       name, setting);
        }
        r = hostname_set(name, "/etc/hostname", &res);
        if (r < 0) {
                step_set_error(ctx, "cannot set the host name '%s' (%s): %s", name,
                               hostname_method_to_string(res.method), res.error);
                return log_error_errno(r, "Failed to set the host name to '%s' through %s: %s.", name,
                                       res.method == HOSTNAME_METHOD_HOSTNAMED ? "systemd-hostnamed"
                                                                               : "sethostname() and /etc/hostname",
                                       res.error);
        }
        r = write_record(ctx, HOSTNAME_MARKER, "hostname=%s\nmethod=%s\n", name, hostname_method_to_string(res.method));
        if (r < 0)
                return r;
        log_event(LOG_INFO, MID_HOSTNAME_SET,
                  LOG_FIELDS("HOSTNAME", name, "METHOD", hostname_method_to_string(res.method)),
                  "Host name set to '%s' (from %s, through %s).", name, setting,
                  res.method == HOSTNAME_METHOD_HOSTNAMED ? "systemd-hostnamed" : "sethostname() and /etc/hostname");
        return 0;
}

static const Nic *static_nic(StepContext *ctx, const Inventory *inv, const StaticNetworkConfig *s) {
        const Nic *nic = NULL;

        if (s->mac)
                nic = nic_find_by_mac(&inv->nics, s->mac);
        else if (inv->nics.n == 1)
                nic = &inv->nics.items[0];
        if (nic)
                return nic;

        step_set_error(ctx, s->mac ? "no physical NIC has the MAC %s (network.static.mac)"
                                   : "network.static.mac is needed: this machine has %s physical NICs",
                       s->mac ? s->mac : inv->nics.n == 0 ? "no" : "several");
        if (s->mac)
                log_error("No physical NIC of this machine has the MAC %s (network.static.mac); it has %zu. "
                          "\"first-boot-agent inventory\" lists them; correct the node's configuration.",
                          s->mac, inv->nics.n);
        else
                log_error("network.static names no MAC and this machine has %zu physical NICs: add "
                          "\"mac\" to network.static in the node's configuration.", inv->nics.n);
        return NULL;
}

static int set_network(StepContext *ctx, const Inventory *inv) {
        const StaticNetworkConfig *s = ctx->config->network_static;
        _cleanup_free_ char *text = NULL, *address = NULL, *file = NULL;
        char error[256] = "";
        const char *bad = NULL;
        const Nic *nic;
        int r;

        if (!s)
                return 0;
        nic = static_nic(ctx, inv, s);
        if (!nic)
                return -EBADE;
        address = strndup(s->address, strcspn(s->address, "/"));
        file = path_join(NETWORKD_DIR, NETWORK_FILE);
        if (!address || !file)
                return log_oom();

        r = networkd_format(&(NetworkdStatic) { .mac = nic->mac, .address = s->address, .gateway = s->gateway,
                                                .dns = s->dns }, &text, &bad);
        if (r == -EINVAL) {
                step_set_error(ctx, "refusing to write %s: a %s= value is not one line of text", file, strna(bad));
                return log_error_errno(r, "Refusing to write '%s': its %s= value (from network.static or the "
                                       "interface's MAC) has a control character, a trailing backslash or blanks "
                                       "at its ends, and systemd-networkd would read it as more than one setting. "
                                       "Fix network.static in the node's configuration.", file, strna(bad));
        }
        if (r < 0)
                return log_oom();
        r = networkd_write(NETWORKD_DIR, NETWORK_FILE, text);
        if (r < 0) {
                step_set_error(ctx, "cannot write %s: %s", file, strerror(-r));
                return log_error_errno(r, "Failed to write '%s': %m", file);
        }

        if (ifaddr_present(nic->name, address) <= 0) {
                r = networkd_apply(nic->ifindex, error, sizeof(error));
                if (r < 0) {
                        step_set_error(ctx, "%s written, but systemd-networkd cannot be asked to apply it: %s", file, error);
                        return log_error_errno(r, "Wrote '%s', but systemd-networkd cannot be asked to apply it: %s. "
                                               "Is systemd-networkd enabled in the image?", file, error);
                }
                log_info("Waiting up to %" PRIu64 " s for %s on %s.", s->wait / USEC_PER_SEC, s->address, nic->name);
                r = ifaddr_wait(nic->name, address, s->wait);
                if (r < 0) {
                        step_set_error(ctx, "%s did not appear on %s within %" PRIu64 " s (network.static.wait_s)",
                                       s->address, nic->name, s->wait / USEC_PER_SEC);
                        return log_error_errno(r, "The address %s did not appear on %s within %" PRIu64 " s: %m. "
                                               "\"networkctl status %s\" tells why.", s->address, nic->name,
                                               s->wait / USEC_PER_SEC, nic->name);
                }
        }

        r = write_record(ctx, NETWORK_MARKER, "interface=%s\nmac=%s\naddress=%s\nfile=%s\n", nic->name, nic->mac,
                         s->address, file);
        if (r < 0)
                return r;
        log_event(LOG_INFO, MID_NETWORK_CONFIGURED,
                  LOG_FIELDS("INTERFACE", nic->name, "ADDRESS", s->address, "FILE", file),
                  "Static address %s is on %s (%s), written for systemd-networkd in '%s'.", s->address, nic->name,
                  nic->mac, file);
        return 0;
}

int step_identity(StepContext *ctx) {
        _cleanup_(inventory_done) Inventory inv = {};
        const Config *c;
        int r;

        if (!ctx->config->provisioning)
                return 0;
        r = inventory_gather(NULL, &inv);
        if (r < 0)
                return log_oom();

        r = node_config(ctx, &inv);
        if (r < 0)
                return r;
        c = ctx->config;
        r = set_hostname(ctx);
        if (r < 0)
                return r;
        r = set_network(ctx, &inv);
        if (r < 0)
                return r;

        step_set_detail(ctx, "node %s%s%s%s%s", c->node_id,
                        c->provisioning->hostname ? ", host name set" : "",
                        c->network_static ? ", static address " : "",
                        c->network_static ? c->network_static->address : "",
                        ", configuration in the state directory");
        return 0;
}
