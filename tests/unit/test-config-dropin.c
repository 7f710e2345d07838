/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-dropin.h"
#include "config-load.h"
#include "config.h"
#include "fileio.h"
#include "json-util.h"
#include "string-util.h"
#include "strv.h"
#include "tap.h"

/* The drop-in fragments: where they are found, the order they apply in, RFC 7396 merging, and
 * problems naming the fragment they are about. */

#define MAIN                                                                    \
        "{\"node_id\": \"node04\", \"node_role\": \"control-plane\", "          \
        "\"bootstrap\": false, \"cluster_name\": \"prod\", "                    \
        "\"leader_url\": \"https://10.0.1.10:2379\", "                          \
        "\"raft_addr\": \"10.0.1.13:2380\", \"tls\": {\"enabled\": true}, "     \
        "\"services\": {\"iam\": {\"enabled\": true, \"api_port\": 8080}}}"

#define NOBODY 65534

static char *tmp;

static char *at(const char *rel) {
        char *p = path_join(tmp, rel);

        if (!p)
                abort();
        return p;
}

static void put(const char *rel, const char *text, mode_t mode) {
        _cleanup_free_ char *p = at(rel);

        if (write_file_atomic(p, text, strlen(text), mode) < 0 || chmod(p, mode) < 0) {
                printf("Bail out! cannot write %s: %m\n", p);
                exit(1);
        }
}

static void mkdirs(const char *rel) {
        _cleanup_free_ char *p = at(rel);

        if (mkdir_p(p, 0755) < 0)
                abort();
}

/* The fragments found for tmp/cluster-config.json with the directories etc, run, lib in tmp,
 * as base names joined by " ". */
static char *found(ProblemList *l) {
        _cleanup_free_ char *main_path = at("cluster-config.json"), *etc = at("etc.d"),
                            *run = at("run.d"), *lib = at("lib.d");
        const char *const dirs[] = { etc, run, lib, NULL };
        _cleanup_strv_free_ char **list = NULL;
        char *all = NULL;
        size_t size;
        FILE *f;

        if (config_dropin_find(main_path, dirs, &list, l) < 0)
                return strdup("(failed)");
        f = open_memstream(&all, &size);
        STRV_FOREACH(p, list)
                fprintf(f, "%s%s", p == list ? "" : " ", *p + strlen(tmp) + 1);
        fclose(f);
        return all;
}

static void test_dir_beside(void) {
        _cleanup_free_ char *a = config_dropin_dir_beside("/etc/nixos/secrets/cluster-config.json"),
                            *b = config_dropin_dir_beside("/srv/node.conf");

        is_str(a, "/etc/nixos/secrets/cluster-config.d", "beside NAME.json: NAME.d");
        is_str(b, "/srv/node.conf.d", "beside a name without .json: NAME.d");
        is_str(config_dropin_dirs[0], "/etc/first-boot-agent/cluster-config.d", "system directories: /etc first");
        is_str(config_dropin_dirs[1], "/run/first-boot-agent/cluster-config.d", "then /run");
        is_str(config_dropin_dirs[2], "/usr/lib/first-boot-agent/cluster-config.d", "then /usr/lib");
        ok(!config_dropin_dirs[3], "and no other");
}

static void test_find(void) {
        _cleanup_free_ char *none = NULL, *list = NULL;
        ProblemList l = {};

        none = found(&l);
        is_str(none, "", "no directory: no fragment");

        mkdirs("cluster-config.d");
        mkdirs("etc.d");
        mkdirs("run.d");
        mkdirs("lib.d");
        put("lib.d/10-vendor.json", "{\"a\": 1}", 0600);
        put("lib.d/50-same.json", "{\"a\": 2}", 0600);
        put("run.d/50-same.json", "{\"a\": 3}", 0600);
        put("etc.d/90-masked.json", "", 0600);
        put("lib.d/90-masked.json", "{\"a\": 4}", 0600);
        put("etc.d/20-admin.json", "{\"a\": 5}", 0600);
        put("cluster-config.d/20-admin.json", "{\"a\": 6}", 0600);
        put("cluster-config.d/30-local.json", "{\"a\": 7}", 0600);
        put("cluster-config.d/notes.txt", "not a fragment", 0600);
        put("cluster-config.d/.hidden.json", "{}", 0600);
        list = found(&l);
        is_str(list, "lib.d/10-vendor.json cluster-config.d/20-admin.json cluster-config.d/30-local.json "
               "run.d/50-same.json",
               "sorted by name; a name is taken from the highest directory; empty masks; only *.json");
        is_int(l.n, 0, "no problem");
        problem_list_done(&l);
}

/* Loads tmp/cluster-config.json as config_load() does, with the test's directories. */
static int load(Config **ret, ProblemList *l) {
        _cleanup_free_ char *main_path = at("cluster-config.json"), *etc = at("etc.d"),
                            *run = at("run.d"), *lib = at("lib.d");
        const char *const dirs[] = { etc, run, lib, NULL };
        _cleanup_(config_origins_freep) ConfigOrigins *o = NULL;
        _cleanup_strv_free_ char **list = NULL;
        _cleanup_json_ json_t *root = NULL;
        _cleanup_free_ char *merged = NULL;
        size_t n_before = l->n;
        int r;

        root = json_load_file(main_path, JSON_REJECT_DUPLICATES, NULL);
        if (!root)
                return -EIO;
        r = config_dropin_find(main_path, dirs, &list, l);
        if (r < 0)
                return r;
        r = config_dropin_merge(root, list, &o, l);
        if (r < 0)
                return r;
        merged = json_dumps(root, JSON_COMPACT);
        r = config_parse(merged, strlen(merged), main_path, ret, l);
        if (config_origins_attribute(o, l, n_before) < 0)
                return -ENOMEM;
        return r;
}

static void clean(void) {
        _cleanup_free_ char *cmd = NULL;

        if (asprintf(&cmd, "rm -rf '%s'/*.d", tmp) < 0 || system(cmd) != 0)
                abort();
        mkdirs("cluster-config.d");
        mkdirs("etc.d");
        mkdirs("lib.d");
}

static void test_merge(void) {
        _cleanup_(config_freep) Config *c = NULL;
        ProblemList l = {};

        clean();
        put("cluster-config.json", MAIN, 0600);
        /* The NixOS module's overrides, a later admin fragment that wins over it, a vendor default. */
        put("etc.d/50-nixos.json", "{\"services\": {\"iam\": {\"enabled\": false}, \"chainfire\": {\"api_port\": 3379}}}", 0600);
        put("cluster-config.d/60-admin.json", "{\"services\": {\"chainfire\": {\"api_port\": 4379}}, \"rack\": \"r7\"}", 0600);
        put("lib.d/10-vendor.json", "{\"rack\": \"r1\", \"datacenter\": \"dc1\", \"node_ip\": \"10.0.1.13\"}", 0600);
        put("cluster-config.d/70-null.json", "{\"node_ip\": null}", 0600);

        is_int(load(&c, &l), 0, "main file and four fragments: valid");
        if (!c)
                return;
        ok(!config_service(c, "iam")->enabled, "a fragment turns iam off (enabled: false over true)");
        is_int(config_service(c, "iam")->api_port, 8080, "siblings of a merged member stay");
        is_int(config_service(c, "chainfire")->api_port, 4379, "60-admin applies after 50-nixos: the last one wins");
        is_str(c->rack, "r7", "a later fragment overrides an earlier one");
        is_str(c->datacenter, "dc1", "an early fragment's member nobody overrides stays");
        ok(!c->node_ip, "null removes a member");
        is_str(c->node_id, "node04", "the main file's identity is kept");
        problem_list_done(&l);
}

static char *lines_with_files(const ProblemList *l) {
        char *all = NULL;
        size_t size;
        FILE *f = open_memstream(&all, &size);

        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *s = problem_format(&l->items[i]);
                const char *file = problem_file(&l->items[i], "MAIN");

                fprintf(f, "%s%s: %s", i > 0 ? "\n" : "",
                        startswith(file, tmp) ? file + strlen(tmp) + 1 : file, s ? s : "(oom)");
        }
        fclose(f);
        return all;
}

/* The problems of merging list (space-separated names relative to tmp) over an empty object. */
static char *merged_problems(const char *list) {
        _cleanup_(config_origins_freep) ConfigOrigins *o = NULL;
        _cleanup_json_ json_t *root = json_object();
        _cleanup_strv_free_ char **paths = NULL;
        _cleanup_free_ char *copy = list ? strdup(list) : NULL;
        ProblemList l = {};
        char *lines;

        if (!copy)
                return NULL;
        for (char *w = copy, *end; w && *w; w = end ? end + 1 : NULL) {
                end = strchr(w, ' ');
                if (end)
                        *end = '\0';
                if (strv_push(&paths, at(w)) < 0)
                        abort();
        }
        (void) config_dropin_merge(root, paths, &o, &l);
        lines = lines_with_files(&l);
        problem_list_done(&l);
        return lines;
}

static void test_attribution(void) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *lines = NULL;
        ProblemList l = {};

        clean();
        put("cluster-config.json", MAIN, 0600);
        put("etc.d/50-nixos.json", "{\"services\": {\"chainfire\": {\"api_port\": \"3379\"}}, \"bootstap\": true}", 0600);
        put("cluster-config.d/60-admin.json", "{\"leader_url\": null, \"services\": {\"iam\": {\"enabled\": 1}}}", 0600);

        is_int(load(&c, &l), -EINVAL, "invalid values from fragments: refused");
        lines = lines_with_files(&l);
        is_str(lines,
               "etc.d/50-nixos.json: .bootstap: expected a known key, found the unknown key \"bootstap\"; did you mean \"bootstrap\"?\n"
               "cluster-config.d/60-admin.json: .services.iam.enabled: expected true or false, found the number 1\n"
               "etc.d/50-nixos.json: .services.chainfire.api_port: expected an integer between 1 and 65535, found the string \"3379\"; write 3379 without quotes\n"
               "cluster-config.d/60-admin.json: .leader_url: expected an http:// or https:// URL with a host (required when bootstrap is false), found nothing",
               "each problem names the fragment that set the value (or removed it)");
        problem_list_done(&l);

        /* A problem about a value the main file set names no fragment. */
        clean();
        put("cluster-config.json", "{\"node_id\": \"node 04\"}", 0600);
        put("cluster-config.d/10-x.json", "{\"rack\": \"r1\"}", 0600);
        ok(load(&c, &l) == -EINVAL && l.n > 0 && !l.items[0].file, "a main-file problem has no fragment");
        problem_list_done(&l);
}

static void test_fragment_problems(void) {
        _cleanup_strv_free_ char **list = NULL;
        _cleanup_(config_origins_freep) ConfigOrigins *o = NULL;
        _cleanup_json_ json_t *root = json_object();
        _cleanup_free_ char *lines = NULL, *a = at("cluster-config.d/10-syntax.json"),
                            *b = at("cluster-config.d/20-open.json"), *d = at("cluster-config.d/30-array.json");
        ProblemList l = {};

        clean();
        put("cluster-config.d/10-syntax.json", "{\"rack\": \"r1\",\n \"x\" }", 0600);
        put("cluster-config.d/20-open.json", "{\"rack\": \"r2\"}", 0644);
        put("cluster-config.d/30-array.json", "[1, 2]", 0600);
        if (strv_extend(&list, a) < 0 || strv_extend(&list, b) < 0 || strv_extend(&list, d) < 0)
                abort();
        is_int(config_dropin_merge(root, list, &o, &l), -EINVAL, "broken fragments: refused");
        is_int(l.n, 3, "one problem per broken fragment, every fragment looked at");
        lines = lines_with_files(&l);
        ok(lines && strstr(lines, "cluster-config.d/10-syntax.json: line 2, column 6: expected valid JSON, found a syntax error"),
           "syntax error: the fragment's path, line and column");
        ok(lines && strstr(lines, "cluster-config.d/20-open.json: expected a file that only its owner can read or write (mode 0600), found mode 0644; run: chmod 600 "),
           "a fragment others can read is refused, with the chmod to run");
        ok(lines && strstr(lines, "cluster-config.d/30-array.json: .: expected an object (a drop-in holds the members it changes), found an array"),
           "a fragment that is not an object");
        for (char *line = lines, *end; line && *line; line = end ? end + 1 : NULL) {
                end = strchr(line, '\n');
                printf("# %.*s\n", end ? (int) (end - line) : (int) strlen(line), line);
        }
        problem_list_done(&l);
}


/* Runs sh -c script as nobody (a real unprivileged uid), 0 on success. */
static int as_nobody(const char *script) {
        _cleanup_free_ char *cmd = NULL;

        if (asprintf(&cmd, "setpriv --reuid=%d --regid=%d --clear-groups sh -c '%s'", NOBODY, NOBODY, script) < 0)
                abort();
        fflush(stdout);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_untrusted_dir(void) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *list = NULL, *lines = NULL, *etc = at("etc.d"), *script = NULL, *expect = NULL;
        ProblemList l = {};

        clean();
        put("cluster-config.json", MAIN, 0600);
        put("lib.d/50-rack.json", "{\"rack\": \"r9\"}", 0600);
        ok(chmod(etc, 0777) == 0, "etc.d made 0777");
        if (geteuid() == 0) {
                ok(chmod(tmp, 0755) == 0 && chown(etc, NOBODY, NOBODY) == 0, "… and given to nobody (uid %d)", NOBODY);
                if (asprintf(&script, ": > %s/50-rack.json", etc) < 0)
                        abort();
                ok(as_nobody(script) == 0, "nobody puts an empty file (a mask) for root's 50-rack.json in it");
        } else {
                skip("a directory of another user (chown needs root)");
                skip("a mask written by another user (setpriv needs root)");
                put("etc.d/50-rack.json", "", 0600);
        }
        list = found(&l);
        is_str(list, "(failed)", "a drop-in directory others may write to: refused, not skipped");
        is_int(l.n, 1, "one problem, about the directory");
        lines = lines_with_files(&l);
        if (asprintf(&expect, "etc.d: expected a drop-in directory owned by root (or by the user running this) that "
                     "group and others cannot write to, found owner uid %u, mode 0777; whoever may write to it "
                     "could add a fragment or mask one; run: chown root: %s && chmod go-w %s",
                     geteuid() == 0 ? NOBODY : (unsigned) geteuid(), etc, etc) < 0)
                abort();
        is_str(lines, expect, "the problem names the directory, its owner and mode, and what to run");
        problem_list_done(&l);

        is_int(load(&c, &l), -EINVAL, "the configuration is refused");
        ok(!c, "no configuration without root's 50-rack.json: the mask did not silently remove it");
        problem_list_done(&l);

        ok(chown(etc, geteuid(), getegid()) == 0 && chmod(etc, 0755) == 0, "etc.d back to root, 0755");
        if (geteuid() == 0) {
                free(lines);
                lines = NULL;
                list = mfree(list);
                list = found(&l);
                is_str(list, "(failed)", "nobody's mask in root's directory: refused");
                lines = lines_with_files(&l);
                ok(lines && strstr(lines, "etc.d/50-rack.json: expected a drop-in owned by root or by the user running "
                                          "this, found owner uid 65534; run: chown root: "),
                   "the problem names the mask and its owner");
                problem_list_done(&l);
        } else
                skip("a mask of another user (needs root)");
}

static void test_entries(void) {
        _cleanup_free_ char *list = NULL, *lines = NULL, *etc = at("etc.d"), *link = at("etc.d/50-rack.json"),
                            *outside = at("outside.json"), *fifo = at("cluster-config.d/40-fifo.json");
        ProblemList l = {};

        clean();
        put("lib.d/50-rack.json", "{\"rack\": \"r9\"}", 0600);
        put("lib.d/60-dc.json", "{\"datacenter\": \"dc9\"}", 0600);
        ok(symlink("/dev/null", link) == 0, "etc.d/50-rack.json: a symlink to /dev/null");
        list = found(&l);
        is_str(list, "lib.d/60-dc.json", "a symlink to /dev/null masks (the link is read, not followed)");
        is_int(l.n, 0, "no problem");
        list = mfree(list);

        ok(unlink(link) == 0, "the mask removed");
        if (geteuid() == 0) {
                ok(mknod(link, S_IFCHR | 0666, makedev(1, 3)) == 0, "etc.d/50-rack.json: the /dev/null device node (0666)");
                list = found(&l);
                is_str(list, "lib.d/60-dc.json", "the /dev/null node masks");
                is_int(l.n, 0, "no problem (its mode means nothing)");
                list = mfree(list);
                ok(unlink(link) == 0, "the node removed");
        } else
                skip("a device node (mknod needs root)");
        put("etc.d/50-rack.json", "", 0666);
        list = found(&l);
        is_str(list, "(failed)", "an empty file others may write to is no mask");
        lines = lines_with_files(&l);
        ok(lines && strstr(lines, "etc.d/50-rack.json: expected a drop-in that group and others cannot write to, "
                                  "found mode 0666; run: chmod go-w "),
           "the problem names the file, its mode and the chmod to run");
        problem_list_done(&l);
        list = mfree(list);
        lines = mfree(lines);

        ok(unlink(link) == 0, "removed");
        put("outside.json", "{\"rack\": \"r1\"}", 0600);
        ok(symlink(outside, link) == 0, "etc.d/50-rack.json: a symlink to a private root-owned file elsewhere");
        list = found(&l);
        is_str(list, "etc.d/50-rack.json lib.d/60-dc.json", "found as a fragment (it hides lib.d's)");
        lines = merged_problems(list);
        ok(lines && strstr(lines, "etc.d/50-rack.json: expected a regular file (drop-ins are not followed through "
                                  "symlinks; a symlink to /dev/null masks), found a symlink to "),
           "but not followed: refused when read, naming the link and its target");
        list = mfree(list);
        lines = mfree(lines);

        ok(unlink(link) == 0 && mkfifo(fifo, 0600) == 0, "a FIFO named like a fragment");
        list = found(&l);
        lines = merged_problems(list);
        ok(lines && strstr(lines, "cluster-config.d/40-fifo.json: expected a regular file, found a file of type fifo"),
           "refused without waiting for a writer");
        list = mfree(list);
        lines = mfree(lines);
        (void) unlink(fifo);

        put("etc.d/70-open.json", "{\"rack\": \"r2\"}", 0620);
        list = found(&l);
        lines = merged_problems(list);
        ok(lines && strstr(lines, "etc.d/70-open.json: expected a drop-in that group and others cannot write to, found mode 0620"),
           "a fragment the group may write to: refused");
        (void) etc;
}

int main(void) {
        char template[] = "/tmp/test-config-dropin-XXXXXX";

        tmp = mkdtemp(template);
        if (!tmp) {
                printf("Bail out! mkdtemp: %m\n");
                return 1;
        }
        test_dir_beside();
        test_find();
        test_merge();
        test_attribution();
        test_fragment_problems();
        test_untrusted_dir();
        test_entries();

        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "rm -rf '%s'", tmp) >= 0)
                (void) !system(cmd);
        return tap_done();
}
