/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>


#include "cleanup.h"
#include "env-file.h"
#include "local-etcd.h"
#include "local-unit.h"
#include "log.h"
#include "strv.h"


int local_etcd_configure(const EtcdLocalConfig *e, const char *initial_cluster, const char *peer_url) {
        const char *const pairs[] = {
                "ETCD_NAME", e->name,
                "ETCD_INITIAL_CLUSTER", initial_cluster,
                "ETCD_INITIAL_CLUSTER_STATE", "existing",
                "ETCD_INITIAL_ADVERTISE_PEER_URLS", peer_url,
                NULL,
        };
        const char *bad = NULL;
        int r;

        r = env_file_check(pairs, &bad);
        if (r < 0) {
                _cleanup_free_ char *shown = NULL;

                for (const char *const *p = pairs; p[0]; p += 2)
                        if (streq(p[0], bad))
                                shown = string_escape(p[1]);
                return log_error_errno(r, "Refusing to write %s=\"%s\" into '%s': the value has a control character "
                                       "(a newline would be read as an assignment of its own). Nothing was written; "
                                       "check where the value came from.", bad, strna(shown), e->env_file);
        }
        r = env_file_set(e->env_file, pairs, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write the local etcd's settings to '%s': %m. The member "
                                       "is added; the next start writes them again.", e->env_file);
        log_event(LOG_INFO, MID_ETCD_CONFIGURED,
                  LOG_FIELDS("TARGET", e->env_file, "MEMBER_NAME", e->name, "PEER", peer_url),
                  "Local etcd settings written to '%s': name %s, initial cluster %s, state existing.",
                  e->env_file, e->name, initial_cluster);
        return 0;
}

int local_etcd_restart(const EtcdLocalConfig *e, const char *service) {
        _cleanup_free_ char *setting = NULL;

        if (asprintf(&setting, "services.%s.etcd.start_command", service) < 0)
                return log_oom();
        return local_unit_start(&(LocalUnit) {
                .what = "the local etcd",
                .service = service,
                .unit = e->unit,
                .start_command = e->start_command,
                .setting = setting,
                .settings_file = e->env_file,
        });
}
