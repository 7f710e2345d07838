/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cleanup.h"
#include "dir-trust.h"

static bool owner_ok(uid_t uid) {
        return uid == 0 || uid == geteuid();
}

bool dir_trust_stat_ok(const struct stat *st) {
        return S_ISDIR(st->st_mode) && owner_ok(st->st_uid) && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

bool dir_trust_entry_ok(const struct stat *st) {
        /* A symlink's own mode is always 0777 and means nothing. */
        return owner_ok(st->st_uid) && (S_ISLNK(st->st_mode) || !(st->st_mode & (S_IWGRP | S_IWOTH)));
}

int dir_trust_open(const char *dir, struct stat *ret_st) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (ret_st)
                *ret_st = st;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        if (!dir_trust_stat_ok(&st))
                return -EPERM;
        return TAKE_FD(fd);
}

int dir_trust_check(const char *dir, mode_t *ret_mode, uid_t *ret_uid) {
        struct stat st = {};
        int fd;

        fd = dir_trust_open(dir, &st);
        if (ret_mode)
                *ret_mode = st.st_mode & 07777;
        if (ret_uid)
                *ret_uid = st.st_uid;
        if (fd < 0)
                return fd;
        (void) close(fd);
        return 0;
}
