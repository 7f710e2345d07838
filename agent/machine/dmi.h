/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* The machine's SMBIOS system record (type 1), from sysfs class/dmi/id. Never logs.
 *
 * Firmware often fills these fields with placeholders ("To Be Filled By O.E.M.", "Default
 * string", "0123456789", an all-zero UUID): the same on every board of a batch, so worse than
 * nothing for telling machines apart. Such values are treated as absent. */

typedef struct Dmi {
        char *uuid;                     /* product_uuid, lower case; NULL when absent */
        char *serial;                   /* product_serial */
        char *vendor;                   /* sys_vendor */
        char *product;                  /* product_name */
        bool unreadable;                /* product_uuid or product_serial exist but only root may read them */
} Dmi;

/* Reads what exists; a machine without SMBIOS gives an empty record. 0 or -ENOMEM. */
int dmi_read(const char *sysfs_root, Dmi *ret);
void dmi_done(Dmi *d);

/* True for the values firmware writes when nobody filled the field in. */
bool dmi_value_is_placeholder(const char *s);
