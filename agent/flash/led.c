/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "led.h"
#include "log.h"

static const char *const pattern_table[_LED_PATTERN_MAX] = {
        [LED_PATTERN_FLASHING] = "flashing",
        [LED_PATTERN_DONE] = "done",
        [LED_PATTERN_FAILED] = "failed",
};

const char *led_pattern_to_string(LedPattern p) {
        return p >= 0 && p < _LED_PATTERN_MAX ? pattern_table[p] : NULL;
}

static int write_attr(const char *dir, const char *attr, const char *value) {
        _cleanup_free_ char *p = path_join(dir, attr);
        _cleanup_fclose_ FILE *f = NULL;

        if (!p)
                return -ENOMEM;
        /* sysfs attributes exist already; "w" also creates them in a test directory. */
        f = fopen(p, "we");
        if (!f)
                return -errno;
        if (fputs(value, f) < 0 || fflush(f) != 0)
                return errno ? -errno : -EIO;
        return 0;
}

static int read_attr(const char *dir, const char *attr, char **ret) {
        _cleanup_free_ char *p = path_join(dir, attr);
        char *data;
        size_t size;
        int r;

        if (!p)
                return -ENOMEM;
        r = read_full_file(p, 4096, &data, &size);
        if (r < 0)
                return r;
        while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == ' '))
                data[--size] = '\0';
        *ret = data;
        return 0;
}

static int blink(const char *dir, const char *on_ms, const char *off_ms) {
        int r;

        r = write_attr(dir, "trigger", "timer");
        if (r < 0)
                return r;
        /* The timer trigger creates delay_on/delay_off; they take effect when written. */
        r = write_attr(dir, "delay_on", on_ms);
        if (r < 0)
                return r;
        return write_attr(dir, "delay_off", off_ms);
}

void led_set(const char *name, LedPattern pattern) {
        const char *base = getenv("FIRST_BOOT_AGENT_LEDS_DIR");
        _cleanup_free_ char *dir = NULL, *max = NULL;
        int r;

        if (!name)
                return;
        dir = path_join(base && *base ? base : "/sys/class/leds", name);
        if (!dir) {
                log_oom();
                return;
        }
        switch (pattern) {
        case LED_PATTERN_FLASHING:
                r = blink(dir, "100", "100");
                break;
        case LED_PATTERN_FAILED:
                r = blink(dir, "1000", "1000");
                break;
        case LED_PATTERN_DONE:
                r = write_attr(dir, "trigger", "none");
                if (r >= 0) {
                        if (read_attr(dir, "max_brightness", &max) < 0 || !*max) {
                                free(max);
                                max = strdup("1");
                        }
                        r = max ? write_attr(dir, "brightness", max) : -ENOMEM;
                }
                break;
        default:
                r = -EINVAL;
        }
        if (r < 0)
                log_warning_errno(r, "Failed to set LED '%s' to the '%s' pattern (in %s): %m.", name,
                                  led_pattern_to_string(pattern), dir);
        else
                log_debug("LED '%s' shows '%s'.", name, led_pattern_to_string(pattern));
}
