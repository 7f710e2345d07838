/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "backoff.h"
#include "step-context.h"

/* Polling local health endpoints until each answers 200. One loop serves every endpoint still
 * unhealthy, each on its own backoff schedule, so a service turning healthy is noticed within
 * HEALTH_POLL_INTERVAL_MAX whatever the others do. */

/* The longest pause between two checks of one endpoint. The join backoff may grow to seconds;
 * a local health check is cheap and its latency is what first boot waits on. */
#define HEALTH_POLL_INTERVAL_MAX (125 * USEC_PER_MSEC)

typedef struct HealthTarget {
        const char *service;            /* "chainfire" */
        const char *url;
        const char *connect;            /* connect here instead of the URL's host, or NULL */
        const char *unit;               /* the service's unit, for messages; NULL: SERVICE.service */

        /* Filled in by health_poll(). */
        bool healthy;
        unsigned attempts;
        long last_status;               /* HTTP status of the last answer, 0 if none came */
        char last_error[256];           /* why the last check failed, "" if it did not */
        usec_t elapsed;                 /* until it answered 200 */
        usec_t next;                    /* CLOCK_MONOTONIC of the next check */
        Backoff backoff;
} HealthTarget;

/* Fills targets (room for c->n_services) with every enabled service that has a health URL;
 * returns how many. */
size_t health_targets_from_config(const Config *c, HealthTarget *targets);

/* Polls until every target is healthy (returns 0) or timeout passes (logs MID_HEALTH_TIMEOUT
 * for each unhealthy target, records the error on the step and returns -ETIMEDOUT). Logs
 * MID_SERVICE_HEALTHY for each target as it turns healthy. */
int health_poll(StepContext *ctx, HealthTarget *targets, size_t n, usec_t timeout);
