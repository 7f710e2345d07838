/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-value.h"
#include "json-util.h"
#include "string-util.h"
#include "strv.h"

static bool has_control_or_space(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p <= ' ' || *p == 0x7F)
                        return true;
        return false;
}

/* The authority of an http(s) URL: "host", "host:port", "[v6]", "[v6]:port". */
static int split_authority(const char *url, const char **ret_start, size_t *ret_len) {
        const char *a;

        if (startswith(url, "http://"))
                a = url + strlen("http://");
        else if (startswith(url, "https://"))
                a = url + strlen("https://");
        else
                return -EINVAL;
        *ret_start = a;
        *ret_len = strcspn(a, "/?#");
        return 0;
}

int config_url_host(const char *url, char **ret_host, uint16_t *ret_port) {
        _cleanup_free_ char *authority = NULL;
        const char *start;
        size_t len;
        int r;

        r = split_authority(url, &start, &len);
        if (r < 0)
                return r;
        authority = strndup(start, len);
        if (!authority)
                return -ENOMEM;
        if (strchr(authority, '@'))
                return -EINVAL;
        return parse_host_optional_port(authority, false, ret_host, ret_port);
}

static bool check_url(const char *s, const char **ret_hint, bool *ret_hide) {
        const char *start;
        size_t len;
        int r;

        if (split_authority(s, &start, &len) < 0) {
                *ret_hint = strstr(s, "://") ? "the scheme must be http:// or https://"
                                             : "start it with http:// or https://";
                return false;
        }
        if (memchr(start, '@', len)) {
                /* user:password@host: keep the password out of every message. */
                *ret_hide = true;
                *ret_hint = "remove the user name and password from the URL";
                return false;
        }
        if (has_control_or_space(s)) {
                *ret_hint = "a URL cannot contain spaces or control characters";
                return false;
        }
        r = config_url_host(s, NULL, NULL);
        if (r == -ERANGE)
                *ret_hint = "the port must be between 1 and 65535";
        else if (r < 0 && len == 0)
                *ret_hint = "the host is missing";
        return r >= 0;
}

static bool check_host_port(const char *s, const char **ret_hint, bool *ret_hide) {
        _cleanup_free_ char *host = NULL;
        uint16_t port;
        const char *colon = strrchr(s, ':');
        int r;

        r = parse_host_port(s, &host, &port);
        if (r >= 0)
                return true;
        if (!colon || (s[0] == '[' && !strstr(s, "]:")))
                *ret_hint = "the port is missing";
        else if (s[0] != '[' && strchr(s, ':') != colon)
                *ret_hint = "write an IPv6 address in brackets: [ADDRESS]:PORT";
        else if (r == -ERANGE)
                *ret_hint = "the port must be between 1 and 65535";
        return false;
}

static bool check_path(const char *s, const char **ret_hint, bool *ret_hide) {
        if (s[0] != '/') {
                *ret_hint = "write the full path, starting with /";
                return false;
        }
        return strlen(s) < PATH_MAX;
}

static bool check_node_id(const char *s, const char **ret_hint, bool *ret_hide) {
        size_t n = strlen(s);

        if (n == 0 || n > 63)
                return false;
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static bool check_name(const char *s, const char **ret_hint, bool *ret_hide) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < ' ' || *p == 0x7F)
                        return false;
        return s[0] != '\0' && strlen(s) <= 255;
}

static bool check_hostname(const char *s, const char **ret_hint, bool *ret_hide) {
        return is_hostname(s);
}

static bool check_ip(const char *s, const char **ret_hint, bool *ret_hide) {
        return is_ip_address(s);
}

static bool check_cidr(const char *s, const char **ret_hint, bool *ret_hide) {
        if (!strchr(s, '/') && is_ip_address(s))
                *ret_hint = "the prefix length is missing";
        return is_cidr(s);
}

static bool check_api_path(const char *s, const char **ret_hint, bool *ret_hide) {
        return s[0] == '/' && !has_control_or_space(s);
}

static bool check_user_path(const char *s, const char **ret_hint, bool *ret_hide) {
        if (!check_api_path(s, ret_hint, ret_hide))
                return false;
        if (!strstr(s, "{user}")) {
                *ret_hint = "{user} marks where the user name goes";
                return false;
        }
        return true;
}

static bool check_dev_path(const char *s, const char **ret_hint, bool *ret_hide) {
        if (!startswith(s, "/dev/") || !s[5]) {
                *ret_hint = "name the device by its path, such as /dev/nvme0n1 or /dev/disk/by-id/…";
                return false;
        }
        return !has_control_or_space(s) && strlen(s) < PATH_MAX;
}

static bool check_led(const char *s, const char **ret_hint, bool *ret_hide) {
        if (strchr(s, '/')) {
                *ret_hint = "write the name only, as listed by 'ls /sys/class/leds'";
                return false;
        }
        return s[0] && !streq(s, ".") && !streq(s, "..") && !has_control_or_space(s) && strlen(s) <= 255;
}

static bool check_unit(const char *s, const char **ret_hint, bool *ret_hide) {
        size_t n = strlen(s);

        if (!endswith(s, ".service")) {
                *ret_hint = "a unit name ends in .service, such as etcd.service";
                return false;
        }
        return n > strlen(".service") && n <= 255 &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_.\\@-") == n;
}

static bool check_sha256(const char *s, const char **ret_hint, bool *ret_hide) {
        if (strlen(s) != 64) {
                *ret_hint = "'sha256sum FILE' prints it";
                return false;
        }
        return strspn(s, "0123456789abcdefABCDEF") == 64;
}

const ValueType config_value_url = {
        "an http:// or https:// URL with a host", check_url };
const ValueType config_value_host_port = {
        "an address HOST:PORT with a port between 1 and 65535", check_host_port };
const ValueType config_value_path = { "an absolute path", check_path };
const ValueType config_value_node_id = {
        "a name of 1 to 63 characters from A-Z, a-z, 0-9, '.', '_' and '-'", check_node_id };
const ValueType config_value_name = { "a non-empty single-line string", check_name };
const ValueType config_value_hostname = { "a DNS name such as \"node04.example.com\"", check_hostname };
const ValueType config_value_ip = { "an IPv4 or IPv6 address", check_ip };
const ValueType config_value_cidr = {
        "an address range ADDRESS/PREFIX such as \"10.0.0.0/16\"", check_cidr };
const ValueType config_value_api_path = { "a URL path starting with /", check_api_path };
const ValueType config_value_user_path = {
        "a URL path starting with / that contains {user}", check_user_path };

const ValueType config_value_dev_path = {
        "a device path under /dev/", check_dev_path };
const ValueType config_value_led = { "an LED name as in /sys/class/leds (no '/')", check_led };
const ValueType config_value_unit = { "a systemd service unit name such as \"etcd.service\"", check_unit };
const ValueType config_value_sha256 = { "64 hexadecimal digits (a SHA-256)", check_sha256 };

/* A number where a string belongs: suggest the quotes only when the quoted text would pass. */
static int add_type_problem(ProblemList *problems, const char *path, const ValueType *t, json_t *v) {
        char text[24];
        const char *hint = NULL;
        bool hide = false;

        if (json_is_integer(v)) {
                snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                if (t->check(text, &hint, &hide))
                        return json_add_type_problem(problems, path, t->expected, v, JSON_STRING);
        }
        return json_add_problem(problems, path, t->expected, v, NULL);
}

/* Checks one string value (v is known to be a JSON string). */
static int check_value(json_t *v, const char *path, const ValueType *t, ProblemList *problems) {
        const char *hint = NULL;
        bool hide = false;

        /* Whatever the type: a path, a name or a URL with a control character in it could move
         * a terminal's cursor, start an escape sequence or end a line in a file it is written
         * to. The value is shown escaped (json_describe()). */
        if (string_has_control(json_string_value(v))) {
                if (!t->check(json_string_value(v), &hint, &hide) && hide) {
                        int r = problem_add(problems, path, t->expected, "a value that is not shown here",
                                            JSON_CONTROL_HINT);
                        return r < 0 ? r : -EINVAL;
                }
                int r = json_add_problem(problems, path, t->expected, v, JSON_CONTROL_HINT);
                return r < 0 ? r : -EINVAL;
        }
        if (t->check(json_string_value(v), &hint, &hide))
                return 0;
        if (hide) {
                int r = problem_add(problems, path, t->expected, "a value that is not shown here", hint);
                return r < 0 ? r : -EINVAL;
        }
        int r = json_add_problem(problems, path, t->expected, v, hint);
        return r < 0 ? r : -EINVAL;
}

int config_get_value(json_t *obj, const char *path, const char *key, const ValueType *t,
                     bool required, char **ret, ProblemList *problems) {
        _cleanup_free_ char *p = NULL;
        const char *s;
        char *copy;
        json_t *v;
        int r;

        v = json_object_get(obj, key);
        if (!v)
                return json_get_string(obj, path, key, t->expected, required, &s, problems);
        p = json_path_key(path, key);
        if (!p)
                return -ENOMEM;
        if (!json_is_string(v)) {
                r = add_type_problem(problems, p, t, v);
                return r < 0 ? r : -EINVAL;
        }
        s = json_string_value(v);
        r = check_value(v, p, t, problems);
        if (r < 0)
                return r;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        free(*ret);
        *ret = copy;
        return 1;
}

int config_get_value_list(json_t *obj, const char *path, const char *key, const ValueType *t,
                          char ***ret, ProblemList *problems) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *p = NULL, *expected = NULL;
        bool bad = false;
        json_t *array, *v;
        size_t i;
        int r;

        if (asprintf(&expected, "an array of strings, each %s", t->expected) < 0) {
                expected = NULL;
                return -ENOMEM;
        }
        r = json_get_array(obj, path, key, expected, false, &array, problems);
        if (r <= 0)
                return r;
        p = json_path_key(path, key);
        l = calloc(1, sizeof(char *));
        if (!p || !l)
                return -ENOMEM;

        json_array_foreach(array, i, v) {
                _cleanup_free_ char *ip = json_path_index(p, i);

                if (!ip)
                        return -ENOMEM;
                if (!json_is_string(v)) {
                        r = add_type_problem(problems, ip, t, v);
                        if (r < 0)
                                return r;
                        bad = true;
                        continue;
                }
                r = check_value(v, ip, t, problems);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        bad = true;
                        continue;
                }
                r = strv_extend(&l, json_string_value(v));
                if (r < 0)
                        return r;
        }
        if (bad)
                return -EINVAL;

        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 1;
}

int config_get_enum(json_t *obj, const char *path, const char *key, const char *const *names,
                    size_t n, bool required, int *ret, ProblemList *problems) {
        _cleanup_free_ char *expected = NULL, *p = NULL, *hint = NULL;
        _cleanup_free_ const char **candidates = NULL;
        size_t k = 0, len;
        const char *s, *nearest;
        FILE *f;
        int r;

        /* one of "control-plane", "worker", "all-in-one" */
        f = open_memstream(&expected, &len);
        if (!f)
                return -ENOMEM;
        fputs("one of ", f);
        for (size_t i = 0; i < n; i++)
                if (names[i])
                        fprintf(f, "%s\"%s\"", k++ > 0 ? ", " : "", names[i]);
        if (fclose(f) != 0)
                return -ENOMEM;

        r = json_get_string(obj, path, key, expected, required, &s, problems);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (names[i] && streq(names[i], s)) {
                        *ret = (int) i;
                        return 1;
                }

        candidates = calloc(n + 1, sizeof(char *));
        p = json_path_key(path, key);
        if (!candidates || !p)
                return -ENOMEM;
        k = 0;
        for (size_t i = 0; i < n; i++)
                if (names[i])
                        candidates[k++] = names[i];
        nearest = nearest_string(s, candidates);
        if (nearest && asprintf(&hint, "did you mean \"%s\"?", nearest) < 0) {
                hint = NULL;
                return -ENOMEM;
        }
        r = json_add_problem(problems, p, expected, json_object_get(obj, key), hint);
        return r < 0 ? r : -EINVAL;
}

int config_get_integer(json_t *obj, const char *path, const char *key, int64_t min, int64_t max,
                       const char *unit, int64_t *ret, bool *ret_explicit, ProblemList *problems) {
        int64_t v;
        int r;

        r = json_get_integer(obj, path, key, min, max, unit, false, &v, problems);
        if (r > 0)
                *ret = v;
        if (ret_explicit)
                *ret_explicit = r > 0;
        return r;
}

int config_add_missing(ProblemList *problems, const char *path, const char *key,
                       const char *expected, const char *why) {
        _cleanup_free_ char *p = json_path_key(path, key), *e = NULL;

        if (!p)
                return -ENOMEM;
        if (asprintf(&e, "%s (%s)", expected, why) < 0) {
                e = NULL;
                return -ENOMEM;
        }
        return problem_add(problems, p, e, "nothing", NULL);
}

int config_get_command(json_t *obj, const char *path, const char *key, char ***ret, ProblemList *problems) {
        _cleanup_free_ char *p = NULL;
        int r;

        r = config_get_value_list(obj, path, key, &config_value_name, ret, problems);
        if (r <= 0 || ((*ret)[0] && (*ret)[0][0] == '/'))
                return r;
        p = json_path_key(path, key);
        if (!p)
                return -ENOMEM;
        return json_add_problem(problems, p, "a command line whose first element is an absolute path",
                                json_object_get(obj, key), "[\"/usr/local/sbin/start-it\"]");
}

int config_set_default(char **field, const char *value) {
        if (*field || !value)
                return 0;
        *field = strdup(value);
        return *field ? 0 : -ENOMEM;
}
