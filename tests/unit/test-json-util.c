/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "cleanup.h"
#include "json-util.h"
#include "tap.h"

static void test_describe(void) {
        static const struct {
                const char *json;
                const char *text;
        } cases[] = {
                { "[\"2379\"]", "the string \"2379\"" },
                { "[70000]", "the number 70000" },
                { "[-3]", "the number -3" },
                { "[2379.0]", "the number 2379.0" },
                { "[1.5]", "the number 1.5" },
                { "[0.1]", "the number 0.1" },
                { "[1e300]", "the number 1e+300" },
                { "[true]", "true" },
                { "[false]", "false" },
                { "[null]", "null" },
                { "[{}]", "an empty object" },
                { "[{\"a\":1}]", "an object" },
                { "[[]]", "an empty array" },
                { "[[1]]", "an array of 1 element" },
                { "[[1,2,3]]", "an array of 3 elements" },
                { "[\"a\\\"b\\\\c\"]", "the string \"a\\\"b\\\\c\"" },
                { "[\"line\\nnext\\u001b[31m\"]", "the string \"line\\nnext\\u001b[31m\"" },
                { "[\"\\u0085x\"]", "the string \"\\u0085x\"" },
                { "[\"\\u00e9t\\u00e9\"]", "the string \"\xc3\xa9t\xc3\xa9\"" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_t *a = json_loads(cases[i].json, 0, NULL);
                _cleanup_free_ char *d = NULL;

                ok(a, "parse %s", cases[i].json);
                d = json_describe(json_array_get(a, 0));
                is_str(d, cases[i].text, "describe %s", cases[i].json);
        }

        _cleanup_free_ char *nothing = json_describe(NULL);
        is_str(nothing, "nothing", "NULL is nothing");

        /* Long strings are cut, on a character boundary. */
        char long_text[200];
        memset(long_text, 'a', sizeof long_text - 1);
        long_text[sizeof long_text - 1] = '\0';
        _cleanup_json_ json_t *l = json_string(long_text);
        _cleanup_free_ char *ld = json_describe(l);
        ok(ld && strlen(ld) < 90, "long string is cut (%zu bytes)", ld ? strlen(ld) : 0);
        ok(ld && strstr(ld, "…\""), "cut string ends in an ellipsis");

        /* 63 'a' then a 2-byte character across the 64-byte limit. */
        char utf[70];
        memset(utf, 'a', 63);
        memcpy(utf + 63, "\xc3\xa9z", 4);
        _cleanup_free_ char *q = json_quote(utf, 64);
        ok(q && !strstr(q, "\xc3\"") && strstr(q, "a…\""), "no half character");
}

static void test_paths(void) {
        _cleanup_free_ char *a = json_path_key(".", "node_id"), *b = json_path_key(NULL, "x"),
                            *c = json_path_key(".services", "chainfire"),
                            *d = json_path_key(".network", "my net"),
                            *e = json_path_index(".initial_peers", 1),
                            *f = json_path_key(".", "1abc"),
                            *g = json_path_key(".a", "q\"x"),
                            *h = json_path_index(".", 0);

        is_str(a, ".node_id", "root key");
        is_str(b, ".x", "NULL parent is the root");
        is_str(c, ".services.chainfire", "nested key");
        is_str(d, ".network[\"my net\"]", "key with a space");
        is_str(e, ".initial_peers[1]", "index");
        is_str(f, ".[\"1abc\"]", "key starting with a digit");
        is_str(g, ".a[\"q\\\"x\"]", "key with a quote");
        is_str(h, ".[0]", "root index");
}

static void test_getters(void) {
        _cleanup_json_ json_t *o = json_loads(
                "{\"s\":\"x\",\"n\":5,\"b\":true,\"bs\":\"false\",\"ns\":\"2379\",\"r\":2.5,"
                "\"o\":{},\"a\":[1]}", 0, NULL);
        ProblemList l = {};
        const char *s = NULL;
        int64_t n = 0;
        bool b = false;
        json_t *j = NULL;

        is_int(json_get_string(o, ".", "s", "a string", true, &s, &l), 1, "string present");
        is_str(s, "x", "string value");
        is_int(json_get_string(o, ".", "missing", "a string", false, &s, &l), 0, "optional absent");
        is_int(l.n, 0, "no problem for an optional member");
        is_int(json_get_string(o, ".", "missing", "a string", true, &s, &l), 0, "required absent");
        is_int(l.n, 1, "problem for a required member");
        is_str(l.items[0].path, ".missing", "its path");
        is_str(l.items[0].found, "nothing", "found nothing");
        is_int(json_get_string(o, ".", "n", "a string", true, &s, &l), -EINVAL, "number for string");
        is_str(l.items[1].hint, "write it in quotes: \"5\"", "quote hint");

        is_int(json_get_boolean(o, ".", "b", true, &b, &l), 1, "boolean");
        ok(b, "boolean value");
        is_int(json_get_boolean(o, ".", "bs", true, &b, &l), -EINVAL, "string for boolean");
        is_str(l.items[2].expected, "true or false", "boolean expected");
        is_str(l.items[2].hint, "write false without quotes", "boolean hint");

        is_int(json_get_integer(o, ".", "n", 1, 10, NULL, true, &n, &l), 1, "integer");
        is_int(n, 5, "integer value");
        is_int(json_get_integer(o, ".", "n", 6, 10, "seconds", true, &n, &l), -EINVAL, "out of range");
        is_str(l.items[3].expected, "an integer between 6 and 10 (seconds)", "range in expected");
        is_str(l.items[3].found, "the number 5", "found the number");
        is_int(n, 5, "value untouched");
        is_int(json_get_integer(o, ".", "ns", 1, 65535, NULL, true, &n, &l), -EINVAL, "string for integer");
        is_str(l.items[4].hint, "write 2379 without quotes", "integer hint");
        is_int(json_get_integer(o, ".", "r", 1, 65535, NULL, true, &n, &l), -EINVAL, "real for integer");
        is_str(l.items[5].found, "the number 2.5", "real found");

        is_int(json_get_object(o, ".", "o", true, &j, &l), 1, "object");
        is_int(json_get_object(o, ".", "a", true, &j, &l), -EINVAL, "array for object");
        is_str(l.items[6].found, "an array of 1 element", "array found");
        is_int(json_get_array(o, ".", "a", "an array", true, &j, &l), 1, "array");
        problem_list_done(&l);
}

static void test_keys(void) {
        static const char *const known[] = { "bootstrap", "node_id", "leader_url", NULL };
        _cleanup_json_ json_t *o = json_loads(
                "{\"bootstap\":1,\"node_id\":\"a\",\"zzzzzz\":2,\"leader-url\":3}", 0, NULL);
        ProblemList l = {};
        _cleanup_free_ char *s0 = NULL, *s1 = NULL, *s2 = NULL;

        is_int(json_check_keys(o, ".", known, &l), 3, "three unknown keys");
        s0 = problem_format(&l.items[0]);
        s1 = problem_format(&l.items[1]);
        s2 = problem_format(&l.items[2]);
        is_str(s0, ".bootstap: expected a known key, found the unknown key \"bootstap\"; did you mean \"bootstrap\"?",
               "nearest name");
        is_str(s1, ".zzzzzz: expected a known key, found the unknown key \"zzzzzz\"; known keys: bootstrap, node_id, leader_url",
               "list when nothing is near");
        is_str(s2, ".leader-url: expected a known key, found the unknown key \"leader-url\"; did you mean \"leader_url\"?",
               "dash for underscore");
        problem_list_done(&l);
}

int main(void) {
        test_describe();
        test_paths();
        test_getters();
        test_keys();
        return tap_done();
}
