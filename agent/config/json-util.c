/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json-util.h"
#include "string-util.h"

#define DESCRIBE_MAX_BYTES 64

/* A growing string; on OOM it turns into NULL and stays so. */
typedef struct Buf {
        char *s;
        size_t n, allocated;
        bool oom;
} Buf;

static void buf_put(Buf *b, const char *p, size_t len) {
        if (b->oom)
                return;
        if (b->n + len + 1 > b->allocated) {
                size_t want = MAX(b->allocated * 2, b->n + len + 1);
                char *s = realloc(b->s, MAX(want, (size_t) 32));

                if (!s) {
                        b->oom = true;
                        return;
                }
                b->s = s;
                b->allocated = MAX(want, (size_t) 32);
        }
        memcpy(b->s + b->n, p, len);
        b->n += len;
        b->s[b->n] = '\0';
}

static void buf_puts(Buf *b, const char *p) {
        buf_put(b, p, strlen(p));
}

static char *buf_steal(Buf *b) {
        if (b->oom || !b->s) {
                free(b->s);
                return b->oom ? NULL : strdup("");
        }
        return b->s;
}

char *json_quote(const char *s, size_t max_bytes) {
        size_t len = strlen(s), keep = len;
        Buf b = {};

        if (len > max_bytes) {
                keep = max_bytes;
                /* Never cut a UTF-8 sequence in half. */
                while (keep > 0 && ((unsigned char) s[keep] & 0xC0) == 0x80)
                        keep--;
        }

        buf_puts(&b, "\"");
        for (size_t i = 0; i < keep; i++) {
                unsigned char c = (unsigned char) s[i];
                char esc[8];

                if (c == '"' || c == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char) c;
                        buf_put(&b, esc, 2);
                } else if (c == '\n')
                        buf_puts(&b, "\\n");
                else if (c == '\t')
                        buf_puts(&b, "\\t");
                else if (c == '\r')
                        buf_puts(&b, "\\r");
                else if (c < 0x20 || c == 0x7F) {
                        snprintf(esc, sizeof esc, "\\u%04x", c);
                        buf_puts(&b, esc);
                } else if (c == 0xC2 && i + 1 < keep && (unsigned char) s[i + 1] >= 0x80 &&
                           (unsigned char) s[i + 1] <= 0x9F) {
                        /* C1 control characters: a terminal may act on them. */
                        snprintf(esc, sizeof esc, "\\u%04x", (unsigned char) s[i + 1]);
                        buf_puts(&b, esc);
                        i++;
                } else
                        buf_put(&b, (const char *) &s[i], 1);
        }
        if (keep < len)
                buf_puts(&b, "…");
        buf_puts(&b, "\"");
        return buf_steal(&b);
}

static char *format_real(double d) {
        char buf[64];

        snprintf(buf, sizeof buf, "%.15g", d);
        if (strtod(buf, NULL) != d)
                snprintf(buf, sizeof buf, "%.17g", d);
        /* 2379.0 must not read as the integer 2379. */
        if (!strpbrk(buf, ".eEni"))
                strncat(buf, ".0", sizeof buf - strlen(buf) - 1);
        return strdup(buf);
}

char *json_describe(const json_t *v) {
        _cleanup_free_ char *q = NULL;
        char *s = NULL;
        size_t n;

        if (!v)
                return strdup("nothing");

        switch (json_typeof(v)) {
        case JSON_STRING:
                q = json_quote(json_string_value(v), DESCRIBE_MAX_BYTES);
                if (!q || asprintf(&s, "the string %s", q) < 0)
                        return NULL;
                return s;
        case JSON_INTEGER:
                if (asprintf(&s, "the number %" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
                        return NULL;
                return s;
        case JSON_REAL:
                q = format_real(json_real_value(v));
                if (!q || asprintf(&s, "the number %s", q) < 0)
                        return NULL;
                return s;
        case JSON_TRUE:
                return strdup("true");
        case JSON_FALSE:
                return strdup("false");
        case JSON_NULL:
                return strdup("null");
        case JSON_OBJECT:
                return strdup(json_object_size(v) == 0 ? "an empty object" : "an object");
        case JSON_ARRAY:
                n = json_array_size(v);
                if (n == 0)
                        return strdup("an empty array");
                if (asprintf(&s, "an array of %zu element%s", n, n == 1 ? "" : "s") < 0)
                        return NULL;
                return s;
        }
        return strdup("an unknown value");
}

static bool is_plain_key(const char *key) {
        size_t n = strlen(key);

        if (n == 0 || n > DESCRIBE_MAX_BYTES || !(isalpha((unsigned char) key[0]) || key[0] == '_'))
                return false;
        for (const char *p = key; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '-')
                        return false;
        return true;
}

char *json_path_key(const char *path, const char *key) {
        _cleanup_free_ char *q = NULL;
        const char *base = !path || streq(path, ".") ? "" : path;
        char *s;

        if (is_plain_key(key)) {
                if (asprintf(&s, "%s.%s", base, key) < 0)
                        return NULL;
                return s;
        }
        q = json_quote(key, DESCRIBE_MAX_BYTES);
        if (!q || asprintf(&s, "%s%s[%s]", base, base[0] ? "" : ".", q) < 0)
                return NULL;
        return s;
}

char *json_path_index(const char *path, size_t index) {
        char *s;

        if (asprintf(&s, "%s[%zu]", path ? path : ".", index) < 0)
                return NULL;
        return s;
}

int json_add_problem(ProblemList *problems, const char *path, const char *expected,
                     const json_t *found, const char *hint) {
        _cleanup_free_ char *d = json_describe(found);

        if (!d)
                return -ENOMEM;
        return problem_add(problems, path, expected, d, hint);
}

int json_check_keys(json_t *obj, const char *path, const char *const *known, ProblemList *problems) {
        const char *key;
        json_t *value;
        int n = 0;

        json_object_foreach(obj, key, value) {
                _cleanup_free_ char *p = NULL, *q = NULL, *found = NULL, *hint = NULL;
                const char *nearest;
                bool is_known = false;
                int r;

                for (const char *const *k = known; *k; k++)
                        if (streq(*k, key)) {
                                is_known = true;
                                break;
                        }
                if (is_known)
                        continue;

                p = json_path_key(path, key);
                q = json_quote(key, DESCRIBE_MAX_BYTES);
                if (!p || !q || asprintf(&found, "the unknown key %s", q) < 0)
                        return -ENOMEM;

                nearest = nearest_string(key, known);
                if (nearest)
                        r = asprintf(&hint, "did you mean \"%s\"?", nearest);
                else {
                        Buf b = {};

                        buf_puts(&b, "known keys: ");
                        for (const char *const *k = known; *k; k++) {
                                if (k != known)
                                        buf_puts(&b, ", ");
                                buf_puts(&b, *k);
                        }
                        hint = buf_steal(&b);
                        r = hint ? 0 : -1;
                }
                if (r < 0) {
                        hint = NULL;
                        return -ENOMEM;
                }

                r = problem_add(problems, p, "a known key", found, hint);
                if (r < 0)
                        return r;
                n++;
        }
        return n;
}

/* "write 2379 without quotes" and the like: the value is right, its JSON type is not. */
static int type_hint(const json_t *value, json_type want, char **ret) {
        const char *s;
        uint64_t u;

        *ret = NULL;
        if (!value)
                return 0;

        if (json_is_string(value)) {
                s = json_string_value(value);
                if (want == JSON_TRUE && (streq(s, "true") || streq(s, "false")))
                        return asprintf(ret, "write %s without quotes", s) < 0 ? -ENOMEM : 0;
                if (want == JSON_INTEGER && parse_uint64(s, &u) >= 0)
                        return asprintf(ret, "write %" PRIu64 " without quotes", u) < 0 ? -ENOMEM : 0;
        }
        if (json_is_integer(value) && want == JSON_STRING)
                return asprintf(ret, "write it in quotes: \"%" JSON_INTEGER_FORMAT "\"",
                                json_integer_value(value)) < 0 ? -ENOMEM : 0;
        if (json_is_real(value) && want == JSON_INTEGER) {
                *ret = strdup("write it without a fractional part");
                return *ret ? 0 : -ENOMEM;
        }
        return 0;
}

int json_add_type_problem(ProblemList *problems, const char *path, const char *expected,
                          const json_t *value, json_type want) {
        _cleanup_free_ char *hint = NULL;
        int r;

        r = type_hint(value, want, &hint);
        if (r < 0)
                return r;
        return json_add_problem(problems, path, expected, value, hint);
}

/* The common part of the getters: finds the member, reports it missing or of the wrong type. */
static int get_member(json_t *obj, const char *path, const char *key, const char *expected,
                      bool required, json_type want, json_t **ret, ProblemList *problems) {
        _cleanup_free_ char *p = NULL;
        json_t *v = json_object_get(obj, key);
        bool right;
        int r;

        if (v) {
                if (want == JSON_TRUE)
                        right = json_is_boolean(v);
                else
                        right = json_typeof(v) == want;
                if (right) {
                        *ret = v;
                        return 1;
                }
        } else if (!required)
                return 0;

        p = json_path_key(path, key);
        if (!p)
                return -ENOMEM;
        r = json_add_type_problem(problems, p, expected, v, want);
        if (r < 0)
                return r;
        return v ? -EINVAL : 0;
}

int json_get_object(json_t *obj, const char *path, const char *key, bool required,
                    json_t **ret, ProblemList *problems) {
        return get_member(obj, path, key, "an object", required, JSON_OBJECT, ret, problems);
}

int json_get_array(json_t *obj, const char *path, const char *key, const char *expected,
                   bool required, json_t **ret, ProblemList *problems) {
        return get_member(obj, path, key, expected, required, JSON_ARRAY, ret, problems);
}

int json_get_string(json_t *obj, const char *path, const char *key, const char *expected,
                    bool required, const char **ret, ProblemList *problems) {
        json_t *v;
        int r;

        r = get_member(obj, path, key, expected, required, JSON_STRING, &v, problems);
        if (r > 0 && string_has_control(json_string_value(v))) {
                _cleanup_free_ char *p = json_path_key(path, key);

                if (!p)
                        return -ENOMEM;
                r = json_add_problem(problems, p, expected, v, JSON_CONTROL_HINT);
                return r < 0 ? r : -EINVAL;
        }
        if (r > 0)
                *ret = json_string_value(v);
        return r;
}

int json_check_key_controls(json_t *v, const char *path, ProblemList *problems) {
        const char *key;
        json_t *member;
        size_t i;
        int n = 0, r;

        if (json_is_array(v))
                json_array_foreach(v, i, member) {
                        _cleanup_free_ char *p = json_path_index(path, i);

                        if (!p)
                                return -ENOMEM;
                        r = json_check_key_controls(member, p, problems);
                        if (r < 0)
                                return r;
                        n += r;
                }
        if (!json_is_object(v))
                return n;
        json_object_foreach(v, key, member) {
                _cleanup_free_ char *p = json_path_key(path, key), *q = NULL;

                if (!p)
                        return -ENOMEM;
                if (string_has_control(key)) {
                        q = json_quote(key, DESCRIBE_MAX_BYTES);
                        if (!q)
                                return -ENOMEM;
                        r = problem_addf(problems, p, "a member name without control characters", JSON_CONTROL_HINT,
                                         "the name %s", q);
                        if (r < 0)
                                return r;
                        n++;
                        continue;
                }
                r = json_check_key_controls(member, p, problems);
                if (r < 0)
                        return r;
                n += r;
        }
        return n;
}

int json_get_boolean(json_t *obj, const char *path, const char *key, bool required, bool *ret,
                     ProblemList *problems) {
        json_t *v;
        int r;

        r = get_member(obj, path, key, "true or false", required, JSON_TRUE, &v, problems);
        if (r > 0)
                *ret = json_is_true(v);
        return r;
}

int json_get_integer(json_t *obj, const char *path, const char *key, int64_t min, int64_t max,
                     const char *unit, bool required, int64_t *ret, ProblemList *problems) {
        _cleanup_free_ char *expected = NULL, *p = NULL;
        json_t *v;
        int r;

        if (asprintf(&expected, "an integer between %" PRId64 " and %" PRId64 "%s%s%s", min, max,
                     unit ? " (" : "", strempty(unit), unit ? ")" : "") < 0) {
                expected = NULL;
                return -ENOMEM;
        }

        r = get_member(obj, path, key, expected, required, JSON_INTEGER, &v, problems);
        if (r <= 0)
                return r;
        if (json_integer_value(v) < min || json_integer_value(v) > max) {
                p = json_path_key(path, key);
                if (!p)
                        return -ENOMEM;
                r = json_add_problem(problems, p, expected, v, NULL);
                return r < 0 ? r : -EINVAL;
        }
        *ret = json_integer_value(v);
        return 1;
}

void json_string_wipe(json_t *v) {
        if (json_is_string(v))
                explicit_bzero((char *) json_string_value(v), json_string_length(v));
}
