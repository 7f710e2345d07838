/* SPDX-License-Identifier: MIT */
#pragma once

/* Starting a service on this node once the agent has written its settings: its start command when
 * the configuration gives one, else its unit through systemd's D-Bus API (a restart, so that new
 * settings are read). */
typedef struct LocalUnit {
        const char *what;               /* "the local etcd", "k3s": for the records */
        const char *service;            /* the service's name in the configuration */
        const char *unit;               /* "etcd.service" */
        char *const *start_command;     /* or NULL */
        const char *setting;            /* the start command's setting: "services.k3s.start_command" */
        const char *settings_file;      /* what the started service reads, for the error without
                                         * systemd; may be NULL */
} LocalUnit;

/* Returns once the command exited 0 or systemd accepted the restart job; logs MID_SERVICE_STARTED,
 * or the error (which setting to add when systemd does not run). */
int local_unit_start(const LocalUnit *u);
