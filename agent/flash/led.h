/* SPDX-License-Identifier: MIT */
#pragma once

/* The flasher's LED signal through /sys/class/leds/NAME ($FIRST_BOOT_AGENT_LEDS_DIR overrides
 * the directory, for tests):
 *   flashing: fast blink (timer trigger, 100 ms on, 100 ms off)
 *   done:     steady on
 *   failed:   slow blink (timer trigger, 1 s on, 1 s off) */

typedef enum LedPattern {
        LED_PATTERN_FLASHING,
        LED_PATTERN_DONE,
        LED_PATTERN_FAILED,
        _LED_PATTERN_MAX,
} LedPattern;

/* Sets the pattern; name NULL does nothing. Failures are logged as warnings and ignored. */
void led_set(const char *name, LedPattern pattern);
const char *led_pattern_to_string(LedPattern p);
