/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "cleanup.h"
#include "fileio.h"
#include "proc-cmdline.h"
#include "tap.h"

static int lookup(const char *cmdline, const char *key, char **ret) {
        static char path[] = "/tmp/test-cmdline-XXXXXX";
        int fd = mkstemp(path), r;

        (void) !write(fd, cmdline, strlen(cmdline));
        close(fd);
        setenv("FIRST_BOOT_AGENT_PROC_CMDLINE", path, 1);
        r = proc_cmdline_get_key(key, ret);
        unlink(path);
        memcpy(path + strlen(path) - 6, "XXXXXX", 6);
        return r;
}

int main(void) {
        char *v = NULL;

        is_int(lookup("BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet\n", "first_boot_agent.mode", &v), 0,
               "absent key");
        is_int(lookup("quiet first_boot_agent.mode=flash ro\n", "first_boot_agent.mode", &v), 1, "present");
        is_str(v, "flash", "value");
        free(v);
        is_int(lookup("first_boot_agent.config=\"/etc/my dir/c.json\" x=1", "first_boot_agent.config", &v), 1,
               "quoted value");
        is_str(v, "/etc/my dir/c.json", "unquoted");
        free(v);
        is_int(lookup("first_boot_agent.mode=flash first_boot_agent.mode=firstboot", "first_boot_agent.mode", &v),
               1, "repeated key");
        is_str(v, "firstboot", "last one wins");
        free(v);
        is_int(lookup("xfirst_boot_agent.mode=flash first_boot_agent.modex=1", "first_boot_agent.mode", &v), 0,
               "no partial matches");
        return tap_done();
}
