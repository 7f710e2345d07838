/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"

/* Is the done marker (.first-boot-done) still true? It says every step's marker is there; a
 * person who deletes a step's marker (the runbook's "rm .chainfire-joined; systemctl restart
 * chainfire-cluster-join") makes it false. Checking every marker on every boot would cost a
 * file per step; instead the done marker carries, as its own mtime, the mtime the state
 * directory had when the markers were last found complete. Any entry created, removed or
 * renamed in the directory since then (a marker deleted, a state file rewritten) gives the
 * directory a new mtime, and only then are the step markers looked at again.
 *
 *   done_marker_fresh()   two stat() calls: the every-boot path;
 *   done_marker_verify()  the step markers against the step table, with the config;
 *   done_marker_stamp()   after a complete walk, or a verify that found every marker.
 *
 * Never logs. */

/* 1 when the done marker exists and the directory has not changed since it was stamped; 0 when
 * it is missing or the directory changed (verify then); negative errno when dir cannot be
 * checked. */
int done_marker_fresh(const char *dir);

/* Checks every enabled step's marker (step_table, with c). When all are there, stamps the done
 * marker and returns 1. When one is missing, removes the stale done marker, returns 0 and the
 * missing marker's name (static, from the step table) in ret_missing. 0 with *ret_missing NULL:
 * there was no done marker. Negative errno on failure. */
int done_marker_verify(const char *dir, const Config *c, const char **ret_missing);

/* Sets the done marker's mtime to the directory's. 0 or negative errno (-ENOENT: no marker). */
int done_marker_stamp(const char *dir);
