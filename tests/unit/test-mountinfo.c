/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "macro.h"
#include "mountinfo.h"
#include "strv.h"
#include "tap.h"

int main(void) {
        char mi[] = "/tmp/test-mountinfo-XXXXXX", sw[] = "/tmp/test-swaps-XXXXXX";
        MountTable t = {};
        const MountEntry *e;
        char **swaps = NULL;
        FILE *f;

        f = fdopen(mkstemp(mi), "w");
        fputs("22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
              "35 22 0:30 / /run rw,nosuid shared:12 - tmpfs tmpfs rw,size=100k\n"
              "garbage line\n"
              "40 22 7:1 / /mnt/with\\040space rw - ext4 /dev/loop1p1 rw\n"
              "41 22 254:1 / / rw - xfs /dev/vdb rw\n", f);
        fclose(f);
        ok(mountinfo_read(mi, &t) == 0, "read");
        is_int(t.n, 4, "four entries, the garbage line skipped");
        e = mountinfo_find(&t, "/");
        ok(e && e->devnum == makedev(254, 1), "the last mount on / is the visible one");
        e = mountinfo_find(&t, "/mnt/with space");
        ok(e && streq(e->source, "/dev/loop1p1") && streq(e->fstype, "ext4"), "octal escapes undone");
        ok(!mountinfo_find(&t, "/nope"), "absent mount point");
        mountinfo_done(&t);
        unlink(mi);

        f = fdopen(mkstemp(sw), "w");
        fputs("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
              "/dev/loop5                              partition\t1020\t\t0\t\t-2\n"
              "/swapfile                               file\t\t1020\t\t0\t\t-3\n", f);
        fclose(f);
        ok(swaps_read(sw, &swaps) == 0, "swaps read");
        ok(strv_length(swaps) == 1 && streq(swaps[0], "/dev/loop5"), "swap partitions only");
        strv_free(swaps);
        unlink(sw);
        return tap_done();
}
