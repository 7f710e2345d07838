/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "tap.h"
#include "time-util.h"

int main(void) {
        char buf[ISO8601_MAX];
        usec_t t;

        is_int(iso8601_format(1765362645 * USEC_PER_SEC, buf), 0, "format");
        is_str(buf, "2025-12-10T10:30:45+00:00", "formatted in UTC with offset");
        is_int(iso8601_parse(buf, &t), 0, "parse own output");
        is_int(t / USEC_PER_SEC, 1765362645, "round trip");
        is_int(iso8601_parse("2025-12-10T19:30:45+09:00", &t), 0, "parse offset");
        is_int(t / USEC_PER_SEC, 1765362645, "offset applied");
        is_int(iso8601_parse("2025-12-10T10:30:45Z", &t), 0, "parse Z");
        is_int(iso8601_parse("2025-12-10 10:30:45", &t), -EINVAL, "no T");
        is_int(iso8601_parse("2025-12-10T10:30:45+0900", &t), -EINVAL, "offset without colon");
        ok(now_monotonic() > 0 && now_realtime() > 1700000000 * USEC_PER_SEC, "clocks");
        usec_t a = now_monotonic();
        sleep_usec(2000);
        ok(now_monotonic() - a >= 2000, "sleep_usec sleeps");
        return tap_done();
}
