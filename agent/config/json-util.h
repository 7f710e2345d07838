/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "problem.h"

/* Small helpers around jansson for reading documents written by people: every wrong type or
 * missing member becomes a Problem naming the JSON path, what was expected and what was found. */

/* jansson itself provides json_decrefp(). */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* What a value is, for "found …" texts: the string "2379", the number 70000, true, null, an
 * object, an array of 3 elements; "nothing" for NULL (a missing member). Long strings are cut
 * and control characters escaped, so the text is always one printable line. */
char *json_describe(const json_t *v);

/* Quotes a string for a message: "…" with control characters escaped and at most max_bytes of
 * the original kept (a longer one ends in "…"). */
char *json_quote(const char *s, size_t max_bytes);

/* JSON paths as jq writes them: ".services.chainfire.api_port", ".initial_peers[1]",
 * ".network[\"my net\"]" for keys that are not plain words. The root is ".". */
char *json_path_key(const char *path, const char *key);
char *json_path_index(const char *path, size_t index);

/* Adds "PATH: expected EXPECTED, found <description of found>; HINT". */
int json_add_problem(ProblemList *problems, const char *path, const char *expected,
                     const json_t *found, const char *hint);

/* Reports every member of obj not named in known (NULL-terminated), with the nearest known name
 * as a hint, else the list of known names. Returns the number of unknown members or -ENOMEM. */
int json_check_keys(json_t *obj, const char *path, const char *const *known, ProblemList *problems);

/* The hint of a problem about a string holding a control character. */
#define JSON_CONTROL_HINT "control characters (C0, DEL, C1; shown escaped) are not allowed here: remove them"

/* Adds a problem for every object member name, anywhere below v (at path), that holds a control
 * character (string_has_control()): a name can end up in a file name, a log line or a terminal
 * as well as a value. Returns the number found, or -ENOMEM. */
int json_check_key_controls(json_t *v, const char *path, ProblemList *problems);

/* Typed getters for the member key of the object obj found at path. Each returns 1 with *ret set
 * when the member is present with the right type; 0 when it is absent (a problem is added when
 * required, *ret untouched); -EINVAL when it has another type or is out of range (a problem is
 * added); -ENOMEM. expected is the text of the problem ("an absolute path"). */
int json_get_object(json_t *obj, const char *path, const char *key, bool required,
                    json_t **ret, ProblemList *problems);
int json_get_array(json_t *obj, const char *path, const char *key, const char *expected,
                   bool required, json_t **ret, ProblemList *problems);
/* json_get_string() also refuses (-EINVAL, a problem with JSON_CONTROL_HINT) a string holding a
 * control character. */
int json_get_string(json_t *obj, const char *path, const char *key, const char *expected,
                    bool required, const char **ret, ProblemList *problems);
int json_get_boolean(json_t *obj, const char *path, const char *key, bool required, bool *ret,
                     ProblemList *problems);
/* An integer in [min, max]; unit ("seconds") is added to the expected text when not NULL. */
int json_get_integer(json_t *obj, const char *path, const char *key, int64_t min, int64_t max,
                     const char *unit, bool required, int64_t *ret, ProblemList *problems);

/* The problem added for a value of the wrong type, with a hint when the value is the right one
 * in quotes ("write 2379 without quotes"). value may be NULL (missing). */
int json_add_type_problem(ProblemList *problems, const char *path, const char *expected,
                          const json_t *value, json_type want);

/* Overwrites a JSON string value's bytes in place (a secret, before the object holding it is
 * released). */
void json_string_wipe(json_t *v);
