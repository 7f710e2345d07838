/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config-flash.h"
#include "tap.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/* Parses text; returns the number of problems, with every problem line joined in *lines. */
static int parse(const char *text, FlashConfig **ret, char **lines) {
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        ProblemList problems = {};
        size_t len = 0;
        int n;

        *ret = NULL;
        *lines = calloc(1, 1);
        if (!j) {
                printf("# bad test JSON: %s\n", e.text);
                return -1;
        }
        (void) flash_config_parse(j, ".flash", ret, &problems);
        for (size_t i = 0; i < problems.n; i++) {
                char *l = problem_format(&problems.items[i]);
                size_t k = strlen(l);

                *lines = realloc(*lines, len + k + 2);
                memcpy(*lines + len, l, k);
                (*lines)[len + k] = '\n';
                (*lines)[len + k + 1] = '\0';
                len += k + 1;
                free(l);
        }
        n = (int) problems.n;
        problem_list_done(&problems);
        json_decref(j);
        return n;
}

static int has(const char *lines, const char *s) {
        if (strstr(lines, s))
                return 1;
        printf("# problems were:\n%s", lines);
        return 0;
}

int main(void) {
        FlashConfig *f;
        char *lines;

        /* A complete section. */
        is_int(parse("{\"images\":[{\"name\":\"system\",\"url\":\"https://10.0.0.1/gold.img.zst\",\"sha256\":\""
                     SHA "\",\"size\":2147483648,\"signature_url\":\"https://10.0.0.1/gold.sig\","
                     "\"target\":{\"type\":\"nvme\",\"serial\":\"S4EW*\",\"min_size\":64000000000}}],"
                     "\"firmware\":[{\"mtd\":\"spi-nor\",\"url\":\"http://10.0.0.1/fw.bin\",\"sha256\":\"" SHA
                     "\",\"signature_url\":\"http://10.0.0.1/fw.sig\"}],"
                     "\"public_key\":\"/etc/key.pem\",\"on_success\":\"reboot\",\"led\":\"ACT\",\"retries\":3,"
                     "\"progress_interval_s\":2}", &f, &lines), 0, "a full section parses");
        ok(f && f->n_images == 1 && f->n_firmware == 1, "one image, one firmware");
        ok(f && streq(f->images[0].name, "system") && f->images[0].size == 2147483648ULL, "image fields");
        ok(f && f->images[0].target.type == FLASH_TARGET_NVME && f->images[0].target.min_size == 64000000000ULL,
           "target fields");
        ok(f && f->images[0].sha256[0] == 0x9f && f->images[0].sha256[31] == 0x08, "digest parsed");
        ok(f && f->images[0].sha256_of == FLASH_DIGEST_FILE, "sha256_of defaults to the file");
        ok(f && streq(f->firmware[0].name, "spi-nor"), "firmware name defaults to the MTD name");
        ok(f && f->on_success == FLASH_POWER_REBOOT && f->on_failure == FLASH_POWER_NONE, "power actions");
        ok(f && f->retries == 3 && f->progress_interval == 2 * USEC_PER_SEC && f->stall_timeout == 30 * USEC_PER_SEC,
           "numbers and defaults");
        flash_config_free(f);
        free(lines);

        /* Defaults. */
        is_int(parse("{\"images\":[{\"url\":\"http://h/i\",\"sha256\":\"" SHA "\",\"sha256_of\":\"image\","
                     "\"target\":{\"type\":\"loop\",\"backing_file\":\"/tmp/*.img\"}}]}", &f, &lines), 0,
               "a minimal section parses");
        ok(f && streq(f->images[0].name, "image0") && f->on_success == FLASH_POWER_POWEROFF &&
           f->images[0].sha256_of == FLASH_DIGEST_IMAGE, "default name and power-off");
        flash_config_free(f);
        free(lines);

        /* Every problem in one pass. */
        ok(parse("{\"imagez\":[], \"images\":[{\"url\":\"ftp://x\",\"sha256\":\"xyz\",\"target\":{\"type\":\"nvme\"}},"
                 "{\"url\":\"http://h/i\",\"sha256\":\"" SHA "\",\"target\":{\"type\":\"disk\",\"serail\":\"x\"}},"
                 "{\"url\":\"http://h/i\",\"sha256\":\"" SHA "\",\"signature_url\":\"http://h/s\","
                 "\"target\":{\"type\":\"path\"}}],"
                 "\"on_success\":\"shutdown\",\"retries\":-1,\"led\":\"../x\"}", &f, &lines) >= 9,
           "a broken section gives many problems");
        ok(!f, "and no config");
        ok(has(lines, ".flash.imagez") && has(lines, "\"images\""), "unknown key with a hint");
        ok(has(lines, ".flash.images[0].url"), "bad URL scheme");
        ok(has(lines, ".flash.images[0].sha256"), "bad digest");
        ok(has(lines, ".flash.images[0].target") && has(lines, "first disk is never chosen"),
           "a type alone is not a target");
        ok(has(lines, ".flash.images[1].target.type"), "unknown target type");
        ok(has(lines, ".flash.images[1].target.serail") && has(lines, "serial"), "misspelt key hint");
        ok(has(lines, ".flash.images[2].target.path"), "type path needs a path");
        ok(has(lines, ".flash.public_key"), "a signature URL needs a key");
        ok(has(lines, ".flash.on_success") && has(lines, "poweroff"), "power action list");
        ok(has(lines, ".flash.retries"), "retries range");
        ok(has(lines, ".flash.led"), "LED name without a slash");
        free(lines);

        ok(parse("{}", &f, &lines) == 1 && has(lines, "at least one entry"), "an empty section");
        free(lines);
        ok(parse("{\"public_key\":\"/k\",\"images\":[{\"url\":\"http://h/i\",\"sha256\":\"" SHA "\","
                 "\"target\":{\"type\":\"mmc\",\"serial\":\"0x1\"}}]}", &f, &lines) == 1 &&
           has(lines, ".flash.images[0].signature_url"), "with a key, unsigned entries are refused");
        free(lines);
        ok(parse("{\"images\":[{\"name\":\"a\",\"url\":\"http://h/i\",\"sha256\":\"" SHA "\",\"target\":"
                 "{\"type\":\"mmc\",\"serial\":\"1\"}},{\"name\":\"a\",\"url\":\"http://h/i\",\"sha256\":\"" SHA
                 "\",\"target\":{\"type\":\"mmc\",\"serial\":\"2\"}}]}", &f, &lines) == 1 &&
           has(lines, "same name"), "duplicate names");
        free(lines);
        ok(parse("{\"images\":[{\"url\":\"https://admin:hunter2@h/i\",\"sha256\":\"" SHA "\",\"target\":"
                 "{\"type\":\"mmc\",\"serial\":\"1\"}}]}", &f, &lines) == 1 &&
           has(lines, "remove the user name and password") && !strstr(lines, "hunter2"),
           "a URL with a password is refused without being repeated");
        free(lines);
        ok(parse("[]", &f, &lines) == 1, "not an object");
        free(lines);
        return tap_done();
}
