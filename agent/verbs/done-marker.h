/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

#include "config.h"

/* Is the done marker (.first-boot-done) still true? It says every step's marker is there; a
 * person who deletes a step's marker (the runbook's "rm .chainfire-joined; systemctl restart
 * chainfire-cluster-join") makes it false. Checking every marker on every boot would cost a
 * file per step; instead the done marker carries, as its own mtime, the mtime the state
 * directory had when the markers were last found complete. Any entry created, removed or
 * renamed in the directory since then (a marker deleted, a state file rewritten) gives the
 * directory a new mtime, and only then are the step markers looked at again.
 *
 * Two things can make the two times equal although the markers changed, and both send the
 * caller to the full check instead:
 *   - a change within the same tick of the file-time clock as the one the stamp recorded (the
 *     directory's time does not move): the stamp counts only when it was made (its ctime) more
 *     than the timestamp granularity after the directory's mtime, git's "racily clean" rule.
 *     done_marker_stamp() waits that out (a tick or two) so that its stamp holds from the next
 *     start on; on a file system keeping whole seconds it does not wait 2 s, and the next start
 *     checks the markers once and stamps again;
 *   - someone else's marker: the directory must be trusted (dir-trust.h: owned by root or the
 *     caller, not writable by group or others), the marker a regular file owned by them.
 *
 *   done_marker_fresh()   a stat() and an lstat(), which give the owners and modes too: the
 *                         every-boot path;
 *   done_marker_verify()  the step markers against the step table, with the config;
 *   done_marker_stamp()   after a complete walk, or a verify that found every marker.
 *
 * Never logs. */

/* 1 when the done marker exists and the directory has not changed since it was stamped (and the
 * stamp is not racy); 0 when it is missing, the directory changed, or the stamp is too close to
 * the change it recorded (verify then); -EPERM when the directory or the marker is not trusted
 * (dir-trust.h: the caller refuses the directory); other negative errno when dir cannot be
 * checked. */
int done_marker_fresh(const char *dir);

/* The rule done_marker_fresh() applies to the two stat() results: the marker's mtime equals the
 * directory's, and its ctime (when it was stamped) is later than that by more than the
 * timestamp granularity. */
bool done_marker_stamp_trusted(const struct stat *dir, const struct stat *marker);

/* Checks every enabled step's marker (the step plan of c). When all are there, stamps the done
 * marker and returns 1. When one is missing, removes the stale done marker, returns 0 and the
 * missing marker's name (a new string) in ret_missing. 0 with *ret_missing NULL:
 * there was no done marker (or no directory). -EPERM for a directory others may write to (nothing
 * in it is believed), other negative errno on failure. */
int done_marker_verify(const char *dir, const Config *c, char **ret_missing);

/* Sets the done marker's mtime to the directory's, after waiting out the granularity (a tick or
 * two; not on a whole-second file system) so that the stamp counts. 0 or negative errno
 * (-ENOENT: no marker). */
int done_marker_stamp(const char *dir);
