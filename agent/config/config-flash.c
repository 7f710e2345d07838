/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-flash.h"
#include "config-value.h"
#include "json-util.h"
#include "string-util.h"

/* Parsing of the "flash" section, with the value types and the problem collection of the rest
 * of the configuration: every problem of the section is reported in one pass, each with its
 * JSON path, what was expected and what was found. */

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
        for (size_t i = 0; s && i < n; i++)
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

/* An enum member with a default for when it is absent (or wrong: the problem is recorded). */
static int get_enum(json_t *obj, const char *path, const char *key, const char *const *table,
                    size_t n, int def, int *ret, ProblemList *problems) {
        int r, v;

        *ret = def;
        r = config_get_enum(obj, path, key, table, n, false, &v, problems);
        if (r > 0)
                *ret = v;
        return r;
}

/* An unsigned member in [min, max]; *ret keeps its value when absent. */
static int get_uint(json_t *obj, const char *path, const char *key, int64_t min, int64_t max,
                    const char *unit, uint64_t *ret, ProblemList *problems) {
        int64_t v = (int64_t) MIN(*ret, (uint64_t) INT64_MAX);
        int r;

        r = config_get_integer(obj, path, key, min, max, unit, &v, NULL, problems);
        if (r > 0)
                *ret = (uint64_t) v;
        return r;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* "sha256": checked as 64 hex digits, kept in lower case and as bytes. */
static int get_sha256(json_t *obj, const char *path, char **ret_hex,
                      uint8_t digest[static FLASH_SHA256_SIZE], ProblemList *problems) {
        int r;

        r = config_get_value(obj, path, "sha256", &config_value_sha256, true, ret_hex, problems);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < FLASH_SHA256_SIZE; i++)
                digest[i] = (uint8_t) (unhex((*ret_hex)[2 * i]) << 4 | unhex((*ret_hex)[2 * i + 1]));
        for (char *c = *ret_hex; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        return 1;
}

static int parse_target(json_t *obj, const char *path, FlashTarget *t, ProblemList *problems) {
        static const char *const keys[] = { "type", "path", "serial", "wwn", "model",
                                            "backing_file", "min_size", NULL };
        int type, r;

        if (!json_is_object(obj)) {
                r = json_add_problem(problems, path, "an object with \"type\" and an identifying property",
                                     obj, NULL);
                return r < 0 ? r : -EINVAL;
        }
        KEEP_GOING(json_check_keys(obj, path, keys, problems));
        r = config_get_enum(obj, path, "type", target_type_table, _FLASH_TARGET_TYPE_MAX, true, &type,
                            problems);
        KEEP_GOING(r);
        t->type = r > 0 ? (FlashTargetType) type : FLASH_TARGET_PATH;
        KEEP_GOING(config_get_value(obj, path, "path", &config_value_dev_path,
                                    r > 0 && t->type == FLASH_TARGET_PATH, &t->path, problems));
        KEEP_GOING(config_get_value(obj, path, "serial", &config_value_name, false, &t->serial, problems));
        KEEP_GOING(config_get_value(obj, path, "wwn", &config_value_name, false, &t->wwn, problems));
        KEEP_GOING(config_get_value(obj, path, "model", &config_value_name, false, &t->model, problems));
        KEEP_GOING(config_get_value(obj, path, "backing_file", &config_value_path, false,
                                    &t->backing_file, problems));
        KEEP_GOING(get_uint(obj, path, "min_size", 0, INT64_MAX, "bytes", &t->min_size, problems));

        if (t->backing_file && r > 0 && t->type != FLASH_TARGET_LOOP) {
                _cleanup_free_ char *bp = json_path_key(path, "backing_file");

                if (!bp)
                        return -ENOMEM;
                KEEP_GOING(problem_add(problems, bp, "only with \"type\": \"loop\"",
                                       "a backing_file on a target that is not a loop device", NULL));
        }
        if (json_object_get(obj, "type") && !json_object_get(obj, "path") && !json_object_get(obj, "serial") &&
            !json_object_get(obj, "wwn") && !json_object_get(obj, "model") &&
            !json_object_get(obj, "backing_file"))
                KEEP_GOING(problem_add(problems, path,
                                       "at least one identifying property: \"serial\", \"wwn\", \"model\", "
                                       "\"path\" or \"backing_file\" (the first disk is never chosen)",
                                       "only a device type", NULL));
        return 0;
}

static int parse_image(json_t *obj, const char *path, size_t index, FlashImage *img,
                       ProblemList *problems) {
        static const char *const keys[] = { "name", "url", "sha256", "sha256_of", "size",
                                            "signature_url", "target", NULL };
        _cleanup_free_ char *tp = NULL;
        int scope;

        if (!json_is_object(obj)) {
                int r = json_add_problem(problems, path, "an object with \"url\", \"sha256\" and \"target\"",
                                         obj, NULL);
                return r < 0 ? r : -EINVAL;
        }
        KEEP_GOING(json_check_keys(obj, path, keys, problems));
        KEEP_GOING(config_get_value(obj, path, "name", &config_value_name, false, &img->name, problems));
        if (!img->name && asprintf(&img->name, "image%zu", index) < 0) {
                img->name = NULL;
                return -ENOMEM;
        }
        KEEP_GOING(config_get_value(obj, path, "url", &config_value_url, true, &img->url, problems));
        KEEP_GOING(get_sha256(obj, path, &img->sha256_hex, img->sha256, problems));
        KEEP_GOING(get_enum(obj, path, "sha256_of", digest_scope_table, _FLASH_DIGEST_SCOPE_MAX,
                            FLASH_DIGEST_FILE, &scope, problems));
        img->sha256_of = (FlashDigestScope) scope;
        KEEP_GOING(get_uint(obj, path, "size", 1, INT64_MAX, "bytes of the uncompressed image", &img->size,
                            problems));
        KEEP_GOING(config_get_value(obj, path, "signature_url", &config_value_url, false,
                                    &img->signature_url, problems));

        tp = json_path_key(path, "target");
        if (!tp)
                return -ENOMEM;
        if (!json_object_get(obj, "target"))
                return config_add_missing(problems, path, "target", "an object describing the target disk",
                                          "required");
        return parse_target(json_object_get(obj, "target"), tp, &img->target, problems);
}

static int parse_firmware(json_t *obj, const char *path, FlashFirmware *fw, ProblemList *problems) {
        static const char *const keys[] = { "name", "mtd", "url", "sha256", "sha256_of",
                                            "signature_url", NULL };
        int scope;

        if (!json_is_object(obj)) {
                int r = json_add_problem(problems, path, "an object with \"mtd\", \"url\" and \"sha256\"",
                                         obj, NULL);
                return r < 0 ? r : -EINVAL;
        }
        KEEP_GOING(json_check_keys(obj, path, keys, problems));
        KEEP_GOING(config_get_value(obj, path, "mtd", &config_value_name, true, &fw->mtd, problems));
        KEEP_GOING(config_get_value(obj, path, "name", &config_value_name, false, &fw->name, problems));
        if (!fw->name && fw->mtd) {
                fw->name = strdup(fw->mtd);
                if (!fw->name)
                        return -ENOMEM;
        }
        KEEP_GOING(config_get_value(obj, path, "url", &config_value_url, true, &fw->url, problems));
        KEEP_GOING(get_sha256(obj, path, &fw->sha256_hex, fw->sha256, problems));
        KEEP_GOING(get_enum(obj, path, "sha256_of", digest_scope_table, _FLASH_DIGEST_SCOPE_MAX,
                            FLASH_DIGEST_FILE, &scope, problems));
        fw->sha256_of = (FlashDigestScope) scope;
        KEEP_GOING(config_get_value(obj, path, "signature_url", &config_value_url, false,
                                    &fw->signature_url, problems));
        return 0;
}

/* An array member of entries, each parsed by parse(index, element, path of the element). */
static int parse_entries(json_t *section, const char *path, const char *key, size_t elem_size,
                         void **ret_items, size_t *ret_n, ProblemList *problems,
                         int (*parse)(json_t *e, const char *path, size_t i, void *item, ProblemList *problems)) {
        _cleanup_free_ char *kp = NULL;
        json_t *a, *e;
        uint8_t *items;
        size_t i;
        int r;

        r = json_get_array(section, path, key, "an array of objects", false, &a, problems);
        if (r <= 0)
                return r;
        kp = json_path_key(path, key);
        items = calloc(MAX(json_array_size(a), (size_t) 1), elem_size);
        if (!kp || !items) {
                free(items);
                return -ENOMEM;
        }
        *ret_items = items;
        *ret_n = json_array_size(a);
        json_array_foreach(a, i, e) {
                _cleanup_free_ char *ip = json_path_index(kp, i);

                if (!ip)
                        return -ENOMEM;
                KEEP_GOING(parse(e, ip, i, items + i * elem_size, problems));
        }
        return 1;
}

static int parse_image_entry(json_t *e, const char *path, size_t i, void *item, ProblemList *problems) {
        return parse_image(e, path, i, item, problems);
}

static int parse_firmware_entry(json_t *e, const char *path, size_t i, void *item, ProblemList *problems) {
        return parse_firmware(e, path, item, problems);
}

static int check_unique_names(const FlashConfig *f, const char *path, ProblemList *problems) {
        for (size_t i = 0; i < f->n_images; i++)
                for (size_t j = i + 1; j < f->n_images; j++)
                        if (f->images[i].name && f->images[j].name &&
                            streq(f->images[i].name, f->images[j].name)) {
                                _cleanup_free_ char *ip = NULL;

                                if (asprintf(&ip, "%s.images[%zu]", path, j) < 0)
                                        return -ENOMEM;
                                KEEP_GOING(problem_add(problems, ip, "a name no other image has",
                                                       "a second image with the same name", NULL));
                        }
        return 0;
}

static int require_signature(const char *path, const char *kind, size_t i, const char *signature_url,
                             ProblemList *problems) {
        _cleanup_free_ char *sp = NULL;

        if (signature_url)
                return 0;
        if (asprintf(&sp, "%s.%s[%zu].signature_url", path, kind, i) < 0)
                return -ENOMEM;
        return problem_add(problems, sp, "a signature URL (\"public_key\" is set)", "nothing", NULL);
}

static int check_signatures(const FlashConfig *f, const char *path, ProblemList *problems) {
        bool any = false;

        for (size_t i = 0; i < f->n_images; i++)
                any = any || f->images[i].signature_url;
        for (size_t i = 0; i < f->n_firmware; i++)
                any = any || f->firmware[i].signature_url;

        if (any && !f->public_key)
                KEEP_GOING(config_add_missing(problems, path, "public_key", "a PEM public key path",
                                              "entries have a \"signature_url\""));
        if (!f->public_key)
                return 0;
        /* With a key, an unsigned entry would make the key pointless: refuse it. */
        for (size_t i = 0; i < f->n_images; i++)
                KEEP_GOING(require_signature(path, "images", i, f->images[i].signature_url, problems));
        for (size_t i = 0; i < f->n_firmware; i++)
                KEEP_GOING(require_signature(path, "firmware", i, f->firmware[i].signature_url, problems));
        return 0;
}

static int parse_section(json_t *section, const char *path, FlashConfig *f, ProblemList *problems) {
        static const char *const keys[] = { "images", "firmware", "public_key", "ca_cert_path",
                                            "on_success", "on_failure", "led", "retries",
                                            "progress_interval_s", "stall_timeout_s", NULL };
        uint64_t retries = 10, progress = 5, stall = 30;
        int action;

        KEEP_GOING(json_check_keys(section, path, keys, problems));
        KEEP_GOING(parse_entries(section, path, "images", sizeof(FlashImage), (void **) &f->images,
                                 &f->n_images, problems, parse_image_entry));
        KEEP_GOING(parse_entries(section, path, "firmware", sizeof(FlashFirmware), (void **) &f->firmware,
                                 &f->n_firmware, problems, parse_firmware_entry));
        if (f->n_images == 0 && f->n_firmware == 0)
                KEEP_GOING(problem_add(problems, path, "at least one entry in \"images\" or \"firmware\"",
                                       "none", NULL));

        KEEP_GOING(config_get_value(section, path, "public_key", &config_value_path, false, &f->public_key,
                                    problems));
        KEEP_GOING(config_get_value(section, path, "ca_cert_path", &config_value_path, false,
                                    &f->ca_cert_path, problems));
        KEEP_GOING(get_enum(section, path, "on_success", power_action_table, _FLASH_POWER_ACTION_MAX,
                            FLASH_POWER_POWEROFF, &action, problems));
        f->on_success = (FlashPowerAction) action;
        KEEP_GOING(get_enum(section, path, "on_failure", power_action_table, _FLASH_POWER_ACTION_MAX,
                            FLASH_POWER_NONE, &action, problems));
        f->on_failure = (FlashPowerAction) action;
        KEEP_GOING(config_get_value(section, path, "led", &config_value_led, false, &f->led, problems));
        KEEP_GOING(get_uint(section, path, "retries", 0, 1000, NULL, &retries, problems));
        KEEP_GOING(get_uint(section, path, "progress_interval_s", 1, 3600, "seconds", &progress, problems));
        KEEP_GOING(get_uint(section, path, "stall_timeout_s", 1, 3600, "seconds", &stall, problems));
        f->retries = (unsigned) retries;
        f->progress_interval = progress * USEC_PER_SEC;
        f->stall_timeout = stall * USEC_PER_SEC;

        KEEP_GOING(check_unique_names(f, path, problems));
        return check_signatures(f, path, problems);
}

int flash_config_parse(json_t *section, const char *path, FlashConfig **ret, ProblemList *problems) {
        _cleanup_(flash_config_freep) FlashConfig *f = NULL;
        size_t n_before = problems->n;
        int r;

        if (!path)
                path = ".flash";
        if (!json_is_object(section)) {
                r = json_add_problem(problems, path, "an object", section, NULL);
                return r < 0 ? r : -EINVAL;
        }

        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        r = parse_section(section, path, f, problems);
        if (r < 0)
                return r;
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
