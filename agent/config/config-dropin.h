/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "problem.h"

/* Drop-in fragments: small JSON objects merged over the main configuration file before it is
 * validated, so that one setting (a service turned off, a port) can be changed without
 * rewriting, or even reading, the file that holds the node's identity.
 *
 *   where   every "*.json" file in these directories, the first one highest:
 *             1. beside the main file, named after it: /etc/nixos/secrets/cluster-config.json
 *                reads /etc/nixos/secrets/cluster-config.d/ (the ".json" suffix is dropped);
 *             2. /etc/first-boot-agent/cluster-config.d/
 *             3. /run/first-boot-agent/cluster-config.d/
 *             4. /usr/lib/first-boot-agent/cluster-config.d/
 *           A file name found in several of them is taken from the highest only, so a file of
 *           the same name higher up replaces (and a mask hides) a fragment lower down.
 *   masks   an empty regular file, a symlink whose text is exactly "/dev/null" (systemd's
 *           convention; the link is read, never followed), or the /dev/null device node.
 *   order   the fragments are applied sorted by file name, bytewise ("10-a.json" before
 *           "50-b.json"), each over the result of the ones before it: the last one wins.
 *   merge   JSON merge patch (RFC 7396): an object merges member by member into the object
 *           it meets; any other value (string, number, boolean, array) replaces what was
 *           there; null removes the member.
 *   trust   before anything in a directory counts, the directory itself must be owned by root
 *           (or the caller) and writable by neither group nor others (dir-trust.h), checked
 *           through the descriptor its entries are then opened from; an untrusted directory is
 *           a problem, never skipped (skipping would drop a fragment its owner meant). Every
 *           entry, mask or fragment, must be owned by root or the caller and not writable by
 *           group or others; a fragment is opened with O_NOFOLLOW, so a symlink other than a
 *           mask is a problem (copy the file instead: a link hands the configuration to
 *           whoever controls its target).
 *   checks  each fragment must be private like the main file (no access for group or
 *           others), a regular file of at most CONFIG_MAX_SIZE, valid JSON and an object; the
 *           merged document is validated as one, and every problem names the file that last
 *           set the value it is about (ConfigOrigins).
 *
 * Never logs. */

/* The directories after the one beside the main file, NULL-terminated. */
extern const char *const config_dropin_dirs[];

/* Which file set which JSON path of the merged document. */
typedef struct ConfigOrigins ConfigOrigins;

ConfigOrigins *config_origins_free(ConfigOrigins *o);
static inline void config_origins_freep(ConfigOrigins **o) {
        config_origins_free(*o);
}

/* The directory beside main_path: "DIR/NAME.d" for "DIR/NAME.json" (or "DIR/NAME"). */
char *config_dropin_dir_beside(const char *main_path);

/* The fragments for main_path, in the order they apply (full paths, masked ones left out):
 * the directory beside main_path, then dirs (NULL-terminated; config_dropin_dirs in the agent,
 * other lists in tests). A missing directory is no fragment; an unreadable or untrusted one, or
 * a mask that is not root's, is a problem (its path in Problem.file). Returns 0, -EINVAL after
 * adding the problems, or -ENOMEM. */
int config_dropin_find(const char *main_path, const char *const *dirs, char ***ret,
                       ProblemList *problems);

/* Reads, checks and merges each fragment over root (an object) in order. Problems of a fragment
 * (permissions, syntax, not an object) are added with its path in Problem.file; then -EINVAL,
 * after every fragment was looked at. On success ret_origins records which fragment set which
 * path, for config_origins_attribute(). -ENOMEM. */
int config_dropin_merge(json_t *root, char *const *fragments, ConfigOrigins **ret_origins,
                        ProblemList *problems);

/* Sets Problem.file of problems[from…] to the fragment that set the value at the problem's
 * JSON path (or at a path above it), when a fragment did. -ENOMEM. */
int config_origins_attribute(const ConfigOrigins *o, ProblemList *problems, size_t from);
