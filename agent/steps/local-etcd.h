/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"

/* The etcd on this node, as the etcd driver needs it once its member has been added: its settings
 * written where its unit reads them, then a (re)start. Both log what they do. */

/* Writes ETCD_NAME, ETCD_INITIAL_CLUSTER, ETCD_INITIAL_CLUSTER_STATE=existing and
 * ETCD_INITIAL_ADVERTISE_PEER_URLS into e->env_file, keeping its other lines. Idempotent. */
int local_etcd_configure(const EtcdLocalConfig *e, const char *initial_cluster, const char *peer_url);

/* Restarts the local etcd: e->start_command when set, else e->unit through systemd's D-Bus API
 * when systemd runs; else an error that says which setting to add. Returns once the command
 * exited 0 or systemd accepted the restart job. */
int local_etcd_restart(const EtcdLocalConfig *e, const char *service);
