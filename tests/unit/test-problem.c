/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>

#include "cleanup.h"
#include "problem.h"
#include "tap.h"

static char *format_last(const ProblemList *l) {
        return l->n > 0 ? problem_format(&l->items[l->n - 1]) : NULL;
}

int main(void) {
        ProblemList l = {};
        char *s;

        is_int(problem_add(&l, ".services.chainfire.api_port", "an integer between 1 and 65535",
                           "the number 70000", NULL), 0, "problem_add");
        is_int(l.n, 1, "one problem");
        s = format_last(&l);
        is_str(s, ".services.chainfire.api_port: expected an integer between 1 and 65535, found the number 70000",
               "path, expected, found");
        free(s);

        is_int(problem_add(&l, ".bootstap", "a known key", "the unknown key \"bootstap\"",
                           "did you mean \"bootstrap\"?"), 0, "with hint");
        s = format_last(&l);
        is_str(s, ".bootstap: expected a known key, found the unknown key \"bootstap\"; did you mean \"bootstrap\"?",
               "hint after a semicolon");
        free(s);

        is_int(problem_addf(&l, ".initial_peers[1]", "an address HOST:PORT", NULL, "the string \"%s\"",
                            "node02"), 0, "problem_addf");
        s = format_last(&l);
        is_str(s, ".initial_peers[1]: expected an address HOST:PORT, found the string \"node02\"",
               "formatted found");
        is_str(l.items[l.n - 1].hint, NULL, "no hint is NULL");
        free(s);

        /* A problem of the file itself has no JSON path. */
        is_int(problem_add(&l, "", "a file that only its owner can read or write (mode 0600)",
                           "mode 0644", "run: chmod 600 /etc/x.json"), 0, "file problem");
        s = format_last(&l);
        is_str(s, "expected a file that only its owner can read or write (mode 0600), found mode 0644; run: chmod 600 /etc/x.json",
               "no path prefix");
        free(s);
        is_int(problem_add(&l, NULL, "x", "y", NULL), 0, "NULL path");
        is_str(l.items[l.n - 1].path, "", "NULL path stored as empty");

        /* Syntax errors carry a position. */
        is_int(problem_add(&l, "", "valid JSON", "a syntax error: unexpected token near '}'", NULL), 0,
               "syntax problem");
        l.items[l.n - 1].line = 3;
        l.items[l.n - 1].column = 7;
        s = format_last(&l);
        is_str(s, "line 3, column 7: expected valid JSON, found a syntax error: unexpected token near '}'",
               "line and column first");
        free(s);
        l.items[l.n - 1].path[0] = '\0';
        free(l.items[l.n - 1].path);
        l.items[l.n - 1].path = strdup(".a");
        s = format_last(&l);
        is_str(s, ".a: line 3, column 7: expected valid JSON, found a syntax error: unexpected token near '}'",
               "path and position");
        free(s);

        /* Only one of expected/found: still one readable line. */
        is_int(problem_add(&l, ".x", "something", NULL, NULL), 0, "expected only");
        s = format_last(&l);
        is_str(s, ".x: something", "expected only");
        free(s);

        is_int(l.n, 7, "seven problems");
        problem_list_done(&l);
        is_int(l.n, 0, "list emptied");
        ok(l.items == NULL, "items freed");
        problem_list_done(&l);
        ok(true, "done twice is harmless");

        return tap_done();
}
