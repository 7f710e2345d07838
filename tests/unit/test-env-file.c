/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "env-file.h"
#include "fileio.h"
#include "tap.h"

/* The env file writer: one assignment per key, whatever the value; entries spread over lines
 * replaced whole; the shell reads back what was written. */

static char dir[] = "/tmp/test-env-file.XXXXXX";
static char path[256];

static void put_file(const char *text) {
        ok(write_file_atomic(path, text, strlen(text), 0644) >= 0, "file written");
}

static char *file_text(void) {
        char *t = NULL;

        if (read_full_file(path, 65536, &t, NULL) < 0)
                return NULL;
        return t;
}

/* What "set -a; . FILE" defines for name, through a shell; NULL when it defines nothing. */
static char *sourced(const char *name) {
        _cleanup_free_ char *cmd = NULL;
        char buf[4096];
        size_t n;
        FILE *p;

        if (asprintf(&cmd, "env -i /bin/sh -c 'set -a; . \"%s\"; if [ \"${%s+set}\" = set ]; then printf %%s \"$%s\"; "
                           "else printf \"<unset>\"; fi'", path, name, name) < 0)
                return NULL;
        p = popen(cmd, "r");
        if (!p)
                return NULL;
        n = fread(buf, 1, sizeof buf - 1, p);
        pclose(p);
        buf[n] = '\0';
        return streq(buf, "<unset>") ? NULL : strdup(buf);
}

static void test_values(void) {
        _cleanup_free_ char *text = NULL, *v = NULL, *sh = NULL;

        unlink(path);
        is_int(env_file_set(path, (const char *const[]) { "A", "plain:/x,y=z", "B", "a \"q\" $HOME `id` \\ end",
                                                          "C", "", NULL }, 0640), 0, "set three keys");
        text = file_text();
        is_str(text, "A=plain:/x,y=z\nB=\"a \\\"q\\\" \\$HOME \\`id\\` \\\\ end\"\nC=\n", "quoted where needed, escaped");
        is_int(env_file_get(path, "B", &v), 1, "get B");
        is_str(v, "a \"q\" $HOME `id` \\ end", "read back as written");
        sh = sourced("B");
        is_str(sh, "a \"q\" $HOME `id` \\ end", "the shell reads the same");
        {
                struct stat st;

                ok(stat(path, &st) >= 0 && (st.st_mode & 07777) == 0640, "a new file gets the mode given");
        }
}

static void test_refusals(void) {
        _cleanup_free_ char *before = NULL, *after = NULL;
        const char *key = NULL;

        put_file("KEEP=1\n");
        before = file_text();
        is_int(env_file_set(path, (const char *const[]) { "ETCD_INITIAL_CLUSTER",
                                                          "e1=http://a:2380\nETCD_AUTH_TOKEN=simple", NULL }, 0644),
               -EINVAL, "a newline in a value: refused");
        is_int(env_file_set(path, (const char *const[]) { "X", "a\rb", NULL }, 0644), -EINVAL, "a carriage return");
        is_int(env_file_set(path, (const char *const[]) { "X", "a\x1b[2Jb", NULL }, 0644), -EINVAL, "an escape");
        is_int(env_file_set(path, (const char *const[]) { "X", "a\x7f", NULL }, 0644), -EINVAL, "DEL");
        is_int(env_file_set(path, (const char *const[]) { "X", "a\tb", NULL }, 0644), -EINVAL, "a tab");
        is_int(env_file_set(path, (const char *const[]) { "X=Y", "1", NULL }, 0644), -EINVAL, "a key with '='");
        is_int(env_file_set(path, (const char *const[]) { "1X", "1", NULL }, 0644), -EINVAL, "a key with a digit first");
        is_int(env_file_set(path, (const char *const[]) { "X\nY", "1", NULL }, 0644), -EINVAL, "a key with a newline");
        is_int(env_file_set(path, (const char *const[]) { "GOOD", "1", "BAD", "x\ny", NULL }, 0644), -EINVAL,
               "one bad pair among good ones");
        after = file_text();
        is_str(after, before, "nothing was written");
        is_int(env_file_check((const char *const[]) { "GOOD", "1", "BAD", "x\ny", NULL }, &key), -EINVAL, "check");
        is_str(key, "BAD", "check names the key");
        is_int(env_file_check((const char *const[]) { "GOOD", "1", NULL }, NULL), 0, "check passes good pairs");
        ok(env_file_value_valid("é ok \"'$"), "printable text and UTF-8 are valid");
        ok(!env_file_value_valid("a\nb"), "a newline is not");
}

/* An entry an earlier writer spread over lines (a quoted value with newlines in it) is one
 * assignment to the shell, and is replaced whole: none of its lines stays behind to become an
 * assignment of its own. */
static void test_multiline_replaced(void) {
        _cleanup_free_ char *text = NULL, *v = NULL, *leak = NULL, *listen = NULL, *kept = NULL, *kept2 = NULL;

        put_file("# Settings of the local etcd\n"
                 "ETCD_DATA_DIR=/var/lib/etcd\n"
                 "ETCD_INITIAL_CLUSTER=\"e1=http://a:2380\\\"\n"
                 "ETCD_AUTH_TOKEN=simple\n"
                 "ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379\n"
                 "#,node04=http://b:2380\"\n"
                 "ETCD_NAME=old\\\n"
                 "ETCD_AUTH_TOKEN=jwt\n"
                 "# it's a comment with a quote\n"
                 "KEEP='one\n"
                 "two'\n"
                 "TAIL=1 # it's kept\n");
        leak = sourced("ETCD_LISTEN_CLIENT_URLS");
        ok(leak == NULL, "before: the shell reads the spread value as one assignment (no listen URL)");
        is_int(env_file_set(path, (const char *const[]) { "ETCD_INITIAL_CLUSTER", "e1=http://a:2380,node04=http://b:2380",
                                                          "ETCD_NAME", "node04", NULL }, 0644), 0, "rewrite two keys");
        text = file_text();
        is_str(text, "# Settings of the local etcd\n"
                     "ETCD_DATA_DIR=/var/lib/etcd\n"
                     "ETCD_INITIAL_CLUSTER=e1=http://a:2380,node04=http://b:2380\n"
                     "ETCD_NAME=node04\n"
                     "# it's a comment with a quote\n"
                     "KEEP='one\n"
                     "two'\n"
                     "TAIL=1 # it's kept\n", "each entry of a key replaced whole, the others kept");
        listen = sourced("ETCD_LISTEN_CLIENT_URLS");
        ok(listen == NULL, "after: no ETCD_LISTEN_CLIENT_URLS");
        free(leak);
        leak = sourced("ETCD_AUTH_TOKEN");
        ok(leak == NULL, "after: no ETCD_AUTH_TOKEN");
        is_int(env_file_get(path, "KEEP", &kept), 1, "a quoted value over two lines");
        is_str(kept, "one\ntwo", "read as one value");
        is_int(env_file_get(path, "TAIL", &kept2), 1, "a value before a comment");
        is_str(kept2, "1", "read without the comment");
        is_int(env_file_get(path, "MISSING", &v), 0, "a missing key");
}

static void test_commented_default(void) {
        _cleanup_free_ char *text = NULL;

        put_file("#ETCD_NAME=\"default\"\nexport ETCD_DATA_DIR=/d\n");
        is_int(env_file_set(path, (const char *const[]) { "ETCD_NAME", "n1", "ETCD_DATA_DIR", "/e", NULL }, 0644), 0,
               "set over a commented default and an export");
        text = file_text();
        is_str(text, "ETCD_NAME=n1\nETCD_DATA_DIR=/e\n", "both replaced in place");
}

int main(void) {
        if (!mkdtemp(dir)) {
                ok(false, "temporary directory");
                return tap_done();
        }
        snprintf(path, sizeof path, "%s/etcd.env", dir);
        test_values();
        test_refusals();
        test_multiline_replaced();
        test_commented_default();
        unlink(path);
        rmdir(dir);
        return tap_done();
}
