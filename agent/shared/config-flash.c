/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-flash.h"
#include "json-util.h"
#include "string-util.h"

/* Parsing of the "flash" section. Every problem is collected (never only the first), each with
 * its JSON path, what was expected and what was found. */

typedef struct Parser {
        ProblemList *problems;
        int error;                      /* first -ENOMEM, else 0 */
} Parser;

/* Keeps the first out-of-memory error; problems are counted through the list itself. */
static void note(Parser *p, int r) {
        if (r == -ENOMEM && p->error == 0)
                p->error = r;
}

static const char *const target_type_table[_FLASH_TARGET_TYPE_MAX] = {
        [FLASH_TARGET_NVME] = "nvme",
        [FLASH_TARGET_VIRTIO] = "virtio",
        [FLASH_TARGET_MMC] = "mmc",
        [FLASH_TARGET_SCSI] = "scsi",
        [FLASH_TARGET_LOOP] = "loop",
        [FLASH_TARGET_PATH] = "path",
};

static const char *const power_action_table[_FLASH_POWER_ACTION_MAX] = {
        [FLASH_POWER_NONE] = "none",
        [FLASH_POWER_POWEROFF] = "poweroff",
        [FLASH_POWER_REBOOT] = "reboot",
};

static const char *const digest_scope_table[_FLASH_DIGEST_SCOPE_MAX] = {
        [FLASH_DIGEST_FILE] = "file",
        [FLASH_DIGEST_IMAGE] = "image",
};

static int table_lookup(const char *const *table, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

const char *flash_target_type_to_string(FlashTargetType t) {
        return t >= 0 && t < _FLASH_TARGET_TYPE_MAX ? target_type_table[t] : NULL;
}

int flash_target_type_from_string(const char *s) {
        return table_lookup(target_type_table, _FLASH_TARGET_TYPE_MAX, s);
}

const char *flash_power_action_to_string(FlashPowerAction a) {
        return a >= 0 && a < _FLASH_POWER_ACTION_MAX ? power_action_table[a] : NULL;
}

int flash_power_action_from_string(const char *s) {
        return table_lookup(power_action_table, _FLASH_POWER_ACTION_MAX, s);
}

const char *flash_digest_scope_to_string(FlashDigestScope s) {
        return s >= 0 && s < _FLASH_DIGEST_SCOPE_MAX ? digest_scope_table[s] : NULL;
}

static void problem(Parser *p, const char *path, const char *expected, json_t *found, const char *hint) {
        note(p, json_add_problem(p->problems, path, expected, found, hint));
}

static void problem_text(Parser *p, const char *path, const char *expected, const char *found) {
        note(p, problem_add(p->problems, path, expected, found, NULL));
}

static char *subpath(Parser *p, const char *base, const char *key) {
        char *s = json_path_key(base, key);

        if (!s)
                note(p, -ENOMEM);
        return s;
}

/* obj[key] as a new string, NULL when absent (a problem when required) or not a string. */
static char *get_string(Parser *p, json_t *obj, const char *path, const char *key, bool required) {
        const char *v = NULL;
        char *s;
        int r;

        r = json_get_string(obj, path, key, "a non-empty string", required, &v, p->problems);
        note(p, r);
        if (r <= 0)
                return NULL;
        if (!*v) {
                _cleanup_free_ char *kp = subpath(p, path, key);

                if (kp)
                        problem(p, kp, "a non-empty string", json_object_get(obj, key), NULL);
                return NULL;
        }
        s = strdup(v);
        if (!s)
                note(p, -ENOMEM);
        return s;
}

static bool is_http_url(const char *s) {
        return (startswith(s, "http://") && s[7]) || (startswith(s, "https://") && s[8]);
}

/* A user name or password in the authority part ("https://user:pw@host/…"). */
static bool has_credentials(const char *url) {
        const char *a = strstr(url, "://") + 3;
        size_t n = strcspn(a, "/?#");

        return memchr(a, '@', n) != NULL;
}

static char *get_url(Parser *p, json_t *obj, const char *path, const char *key, bool required) {
        char *s = get_string(p, obj, path, key, required);
        _cleanup_free_ char *kp = NULL;

        if (!s || (is_http_url(s) && !has_credentials(s)))
                return s;
        kp = subpath(p, path, key);
        if (kp && is_http_url(s))
                /* Never repeat what may be a password. */
                problem_text(p, kp, "an http:// or https:// URL without a user name or password",
                             "a value that is not shown here");
        else if (kp)
                problem(p, kp, "an http:// or https:// URL", json_object_get(obj, key), NULL);
        free(s);
        return NULL;
}

/* An integer in [min, max]; absent leaves *ret alone. */
static void get_uint(Parser *p, json_t *obj, const char *path, const char *key, int64_t min,
                     int64_t max, const char *unit, uint64_t *ret) {
        int64_t v;
        int r;

        r = json_get_integer(obj, path, key, min, max, unit, false, &v, p->problems);
        note(p, r);
        if (r > 0)
                *ret = (uint64_t) v;
}

static int get_enum(Parser *p, json_t *obj, const char *path, const char *key,
                    const char *const *table, size_t n, int def) {
        _cleanup_free_ char *kp = NULL, *expected = NULL, *hint = NULL;
        json_t *v = json_object_get(obj, key);
        const char *candidates[16] = {};
        int i;

        if (!v)
                return def;
        if (json_is_string(v)) {
                i = table_lookup(table, n, json_string_value(v));
                if (i >= 0)
                        return i;
        }
        kp = subpath(p, path, key);
        if (!kp) {
                note(p, -ENOMEM);
                return def;
        }
        /* "one of \"a\", \"b\", \"c\"" */
        expected = strdup("one of");
        for (size_t k = 0; expected && k < n && k < ELEMENTSOF(candidates) - 1; k++) {
                char *e;

                candidates[k] = table[k];
                if (asprintf(&e, "%s%s \"%s\"", expected, k == 0 ? "" : ",", table[k]) < 0)
                        e = NULL;
                free(expected);
                expected = e;
        }
        if (!expected) {
                note(p, -ENOMEM);
                return def;
        }
        if (json_is_string(v)) {
                const char *near = nearest_string(json_string_value(v), candidates);

                if (near && asprintf(&hint, "did you mean \"%s\"?", near) < 0)
                        hint = NULL;
        }
        problem(p, kp, expected, v, hint);
        return def;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) tolower((unsigned char) c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

static void get_sha256(Parser *p, json_t *obj, const char *path, char **ret_hex,
                       uint8_t digest[static FLASH_SHA256_SIZE]) {
        _cleanup_free_ char *s = get_string(p, obj, path, "sha256", true), *kp = NULL;

        if (!s)
                return;
        if (strlen(s) == 2 * FLASH_SHA256_SIZE) {
                bool good = true;

                for (size_t i = 0; i < FLASH_SHA256_SIZE && good; i++) {
                        int hi = unhex(s[2 * i]), lo = unhex(s[2 * i + 1]);

                        good = hi >= 0 && lo >= 0;
                        if (good)
                                digest[i] = (uint8_t) (hi << 4 | lo);
                }
                if (good) {
                        for (char *c = s; *c; c++)
                                *c = (char) tolower((unsigned char) *c);
                        *ret_hex = TAKE_PTR(s);
                        return;
                }
        }
        kp = subpath(p, path, "sha256");
        if (kp)
                problem(p, kp, "64 hexadecimal digits (a SHA-256)", json_object_get(obj, "sha256"), NULL);
}

static void parse_target(Parser *p, json_t *obj, const char *path, FlashTarget *t) {
        static const char *const keys[] = { "type", "path", "serial", "wwn", "model",
                                            "backing_file", "min_size", NULL };
        _cleanup_free_ char *tp = NULL;

        if (!json_is_object(obj)) {
                problem(p, path, "an object with \"type\" and an identifying property", obj, NULL);
                return;
        }
        note(p, json_check_keys(obj, path, keys, p->problems));
        tp = subpath(p, path, "type");
        if (!tp) {
                note(p, -ENOMEM);
                return;
        }
        if (!json_object_get(obj, "type"))
                problem(p, tp, "one of \"nvme\", \"virtio\", \"mmc\", \"scsi\", \"loop\", \"path\" (required)",
                        NULL, NULL);
        t->type = get_enum(p, obj, path, "type", target_type_table, _FLASH_TARGET_TYPE_MAX,
                           FLASH_TARGET_PATH);
        t->path = get_string(p, obj, path, "path", t->type == FLASH_TARGET_PATH);
        t->serial = get_string(p, obj, path, "serial", false);
        t->wwn = get_string(p, obj, path, "wwn", false);
        t->model = get_string(p, obj, path, "model", false);
        t->backing_file = get_string(p, obj, path, "backing_file", false);
        get_uint(p, obj, path, "min_size", 0, INT64_MAX, "bytes", &t->min_size);

        if (t->path && !startswith(t->path, "/dev/")) {
                _cleanup_free_ char *pp = subpath(p, path, "path");

                if (pp)
                        problem(p, pp, "a device path under /dev/", json_object_get(obj, "path"), NULL);
        }
        if (t->backing_file && t->type != FLASH_TARGET_LOOP) {
                _cleanup_free_ char *bp = subpath(p, path, "backing_file");

                if (bp)
                        problem_text(p, bp, "only with \"type\": \"loop\"",
                                     "a backing_file on a target that is not a loop device");
        }
        if (json_object_get(obj, "type") && !t->path && !t->serial && !t->wwn && !t->model &&
            !t->backing_file)
                problem_text(p, path,
                             "at least one identifying property: \"serial\", \"wwn\", \"model\", "
                             "\"path\" or \"backing_file\" (the first disk is never chosen)",
                             "only a device type");
}

static void parse_image(Parser *p, json_t *obj, const char *path, size_t index, FlashImage *img) {
        static const char *const keys[] = { "name", "url", "sha256", "sha256_of", "size",
                                            "signature_url", "target", NULL };
        _cleanup_free_ char *tp = NULL;

        if (!json_is_object(obj)) {
                problem(p, path, "an object with \"url\", \"sha256\" and \"target\"", obj, NULL);
                return;
        }
        note(p, json_check_keys(obj, path, keys, p->problems));
        img->name = get_string(p, obj, path, "name", false);
        if (!img->name && asprintf(&img->name, "image%zu", index) < 0) {
                img->name = NULL;
                note(p, -ENOMEM);
        }
        img->url = get_url(p, obj, path, "url", true);
        get_sha256(p, obj, path, &img->sha256_hex, img->sha256);
        img->sha256_of = get_enum(p, obj, path, "sha256_of", digest_scope_table,
                                  _FLASH_DIGEST_SCOPE_MAX, FLASH_DIGEST_FILE);
        get_uint(p, obj, path, "size", 1, INT64_MAX, "bytes of the uncompressed image", &img->size);
        img->signature_url = get_url(p, obj, path, "signature_url", false);

        tp = subpath(p, path, "target");
        if (!tp) {
                note(p, -ENOMEM);
                return;
        }
        if (!json_object_get(obj, "target"))
                problem(p, tp, "an object describing the target disk (required)", NULL, NULL);
        else
                parse_target(p, json_object_get(obj, "target"), tp, &img->target);
}

static void parse_firmware(Parser *p, json_t *obj, const char *path, FlashFirmware *fw) {
        static const char *const keys[] = { "name", "mtd", "url", "sha256", "sha256_of",
                                            "signature_url", NULL };

        if (!json_is_object(obj)) {
                problem(p, path, "an object with \"mtd\", \"url\" and \"sha256\"", obj, NULL);
                return;
        }
        note(p, json_check_keys(obj, path, keys, p->problems));
        fw->mtd = get_string(p, obj, path, "mtd", true);
        fw->name = get_string(p, obj, path, "name", false);
        if (!fw->name && fw->mtd) {
                fw->name = strdup(fw->mtd);
                if (!fw->name)
                        note(p, -ENOMEM);
        }
        fw->url = get_url(p, obj, path, "url", true);
        get_sha256(p, obj, path, &fw->sha256_hex, fw->sha256);
        fw->sha256_of = get_enum(p, obj, path, "sha256_of", digest_scope_table,
                                 _FLASH_DIGEST_SCOPE_MAX, FLASH_DIGEST_FILE);
        fw->signature_url = get_url(p, obj, path, "signature_url", false);
}

/* Parses an array member into a calloc'ed array of elements of the given size. */
static void *parse_array(Parser *p, json_t *section, const char *path, const char *key,
                         size_t elem_size, size_t *ret_n, const char **ret_path) {
        json_t *a = json_object_get(section, key);
        char *kp;
        void *items;

        *ret_n = 0;
        *ret_path = NULL;
        if (!a)
                return NULL;
        kp = subpath(p, path, key);
        if (!kp) {
                note(p, -ENOMEM);
                return NULL;
        }
        if (!json_is_array(a)) {
                problem(p, kp, "an array", a, NULL);
                free(kp);
                return NULL;
        }
        items = calloc(MAX(json_array_size(a), (size_t) 1), elem_size);
        if (!items) {
                note(p, -ENOMEM);
                free(kp);
                return NULL;
        }
        *ret_n = json_array_size(a);
        *ret_path = kp;
        return items;
}

static void check_unique_names(Parser *p, const FlashConfig *f, const char *path) {
        for (size_t i = 0; i < f->n_images; i++)
                for (size_t j = i + 1; j < f->n_images; j++)
                        if (f->images[i].name && f->images[j].name &&
                            streq(f->images[i].name, f->images[j].name)) {
                                _cleanup_free_ char *ip = json_path_index(path, j);

                                if (ip)
                                        problem_text(p, ip, "a name no other image has",
                                                     "a second image with the same name");
                        }
}

static void check_signatures(Parser *p, const FlashConfig *f, const char *path) {
        _cleanup_free_ char *pk = subpath(p, path, "public_key");
        bool any = false;

        if (!pk) {
                note(p, -ENOMEM);
                return;
        }
        for (size_t i = 0; i < f->n_images; i++)
                any = any || f->images[i].signature_url;
        for (size_t i = 0; i < f->n_firmware; i++)
                any = any || f->firmware[i].signature_url;

        if (any && !f->public_key)
                problem_text(p, pk, "a PEM public key path (entries have a \"signature_url\")",
                             "nothing");
        if (!f->public_key)
                return;
        /* With a key, an unsigned entry would make the key pointless: refuse it. */
        for (size_t i = 0; i < f->n_images; i++)
                if (!f->images[i].signature_url) {
                        _cleanup_free_ char *sp = NULL;

                        if (asprintf(&sp, "%s.images[%zu].signature_url", path, i) >= 0)
                                problem_text(p, sp, "a signature URL (\"public_key\" is set)",
                                             "nothing");
                }
        for (size_t i = 0; i < f->n_firmware; i++)
                if (!f->firmware[i].signature_url) {
                        _cleanup_free_ char *sp = NULL;

                        if (asprintf(&sp, "%s.firmware[%zu].signature_url", path, i) >= 0)
                                problem_text(p, sp, "a signature URL (\"public_key\" is set)",
                                             "nothing");
                }
}

int flash_config_parse(json_t *section, const char *path, FlashConfig **ret, ProblemList *problems) {
        static const char *const keys[] = { "images", "firmware", "public_key", "ca_cert_path",
                                            "on_success", "on_failure", "led", "retries",
                                            "progress_interval_s", "stall_timeout_s", NULL };
        _cleanup_(flash_config_freep) FlashConfig *f = NULL;
        _cleanup_free_ char *images_path = NULL, *firmware_path = NULL;
        Parser p = { .problems = problems };
        size_t n_before = problems->n;
        uint64_t u;

        if (!path)
                path = ".flash";
        if (!json_is_object(section)) {
                problem(&p, path, "an object", section, NULL);
                return p.error < 0 ? p.error : -EINVAL;
        }

        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->on_success = FLASH_POWER_POWEROFF;
        f->on_failure = FLASH_POWER_NONE;
        f->retries = 10;
        f->progress_interval = 5 * USEC_PER_SEC;
        f->stall_timeout = 30 * USEC_PER_SEC;

        note(&p, json_check_keys(section, path, keys, p.problems));

        f->images = parse_array(&p, section, path, "images", sizeof(FlashImage), &f->n_images,
                                (const char **) &images_path);
        for (size_t i = 0; i < f->n_images; i++) {
                _cleanup_free_ char *ip = json_path_index(images_path, i);

                if (!ip)
                        return -ENOMEM;
                parse_image(&p, json_array_get(json_object_get(section, "images"), i), ip, i,
                            &f->images[i]);
        }
        f->firmware = parse_array(&p, section, path, "firmware", sizeof(FlashFirmware),
                                  &f->n_firmware, (const char **) &firmware_path);
        for (size_t i = 0; i < f->n_firmware; i++) {
                _cleanup_free_ char *ip = json_path_index(firmware_path, i);

                if (!ip)
                        return -ENOMEM;
                parse_firmware(&p, json_array_get(json_object_get(section, "firmware"), i), ip,
                               &f->firmware[i]);
        }
        if (f->n_images == 0 && f->n_firmware == 0)
                problem_text(&p, path, "at least one entry in \"images\" or \"firmware\"",
                             "none");

        f->public_key = get_string(&p, section, path, "public_key", false);
        f->ca_cert_path = get_string(&p, section, path, "ca_cert_path", false);
        f->on_success = get_enum(&p, section, path, "on_success", power_action_table,
                                 _FLASH_POWER_ACTION_MAX, FLASH_POWER_POWEROFF);
        f->on_failure = get_enum(&p, section, path, "on_failure", power_action_table,
                                 _FLASH_POWER_ACTION_MAX, FLASH_POWER_NONE);
        f->led = get_string(&p, section, path, "led", false);
        if (f->led && (strchr(f->led, '/') || streq(f->led, ".") || streq(f->led, ".."))) {
                _cleanup_free_ char *lp = subpath(&p, path, "led");

                if (lp)
                        problem(&p, lp, "an LED name as in /sys/class/leds (no '/')",
                                json_object_get(section, "led"), NULL);
        }

        u = f->retries;
        get_uint(&p, section, path, "retries", 0, 1000, NULL, &u);
        f->retries = (unsigned) u;
        u = f->progress_interval / USEC_PER_SEC;
        get_uint(&p, section, path, "progress_interval_s", 1, 3600, "seconds", &u);
        f->progress_interval = u * USEC_PER_SEC;
        u = f->stall_timeout / USEC_PER_SEC;
        get_uint(&p, section, path, "stall_timeout_s", 1, 3600, "seconds", &u);
        f->stall_timeout = u * USEC_PER_SEC;

        check_unique_names(&p, f, images_path ? images_path : path);
        check_signatures(&p, f, path);

        if (p.error < 0)
                return p.error;
        if (problems->n > n_before)
                return -EINVAL;
        *ret = TAKE_PTR(f);
        return 0;
}

static void target_done(FlashTarget *t) {
        free(t->path);
        free(t->serial);
        free(t->wwn);
        free(t->model);
        free(t->backing_file);
}

FlashConfig *flash_config_free(FlashConfig *f) {
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n_images; i++) {
                FlashImage *img = &f->images[i];

                free(img->name);
                free(img->url);
                free(img->sha256_hex);
                free(img->signature_url);
                target_done(&img->target);
        }
        free(f->images);
        for (size_t i = 0; i < f->n_firmware; i++) {
                FlashFirmware *fw = &f->firmware[i];

                free(fw->name);
                free(fw->mtd);
                free(fw->url);
                free(fw->sha256_hex);
                free(fw->signature_url);
        }
        free(f->firmware);
        free(f->public_key);
        free(f->ca_cert_path);
        free(f->led);
        free(f);
        return NULL;
}
