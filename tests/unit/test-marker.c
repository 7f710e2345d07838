/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include "cleanup.h"
#include "fileio.h"
#include "marker.h"
#include "tap.h"

int main(void) {
        char dir[] = "/tmp/test-marker-XXXXXX";
        _cleanup_free_ char *path = NULL, *data = NULL;
        usec_t t = 0, before = now_realtime() / USEC_PER_SEC * USEC_PER_SEC;

        ok(mkdtemp(dir) != NULL, "temporary directory");
        is_int(marker_exists(dir, ".chainfire-joined"), 0, "absent at first");
        is_int(marker_read(dir, ".chainfire-joined", &t), -ENOENT, "read of absent marker");
        is_int(marker_write(dir, ".chainfire-joined"), 0, "write");
        is_int(marker_exists(dir, ".chainfire-joined"), 1, "present after write");
        is_int(marker_read(dir, ".chainfire-joined", &t), 0, "read");
        ok(t >= before && t <= now_realtime(), "holds the time of writing");

        path = path_join(dir, ".chainfire-joined");
        ok(read_full_file(path, 100, &data, NULL) == 0, "raw read");
        ok(strlen(data) == 26 && data[10] == 'T' && data[19] == '+' && data[25] == '\n',
           "ISO 8601 with offset and newline: %s", data);

        /* A marker written by the older shell automation (date -Iseconds) reads fine. */
        ok(write_file_atomic(path, "2025-12-10T10:30:45+09:00\n", 26, 0644) == 0, "old format");
        is_int(marker_read(dir, ".chainfire-joined", &t), 0, "old marker parses");
        is_int(t / USEC_PER_SEC, 1765330245, "offset applied");

        ok(write_file_atomic(path, "garbage", 7, 0644) == 0, "garbage");
        is_int(marker_read(dir, ".chainfire-joined", &t), -EBADMSG, "garbage is reported");

        is_int(marker_remove(dir, ".chainfire-joined"), 1, "remove");
        is_int(marker_remove(dir, ".chainfire-joined"), 0, "remove again: nothing there");
        (void) rmdir(dir);
        return tap_done();
}
