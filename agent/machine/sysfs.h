/* SPDX-License-Identifier: MIT */
#pragma once

/* Reading sysfs attributes for the machine's description. The root is "/sys", or
 * $FIRST_BOOT_AGENT_SYSFS_DIR when set (tests hand the readers a tree of their own). */

/* dir when not NULL, else $FIRST_BOOT_AGENT_SYSFS_DIR when set and not empty, else "/sys". */
const char *sysfs_root(const char *dir);

/* The first line of root/path, trailing white space removed, as a new string. -ENOENT when the
 * attribute does not exist, -ENODATA when it is empty, -EACCES when only root may read it,
 * other negative errno from the read. */
int sysfs_read_line(const char *root, const char *path, char **ret);
