/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "exit-code.h"
#include "inventory.h"
#include "json-util.h"
#include "log.h"
#include "string-util.h"
#include "verbs.h"

static void help(void) {
        printf("Usage: first-boot-agent inventory [--json]\n\n"
               "Prints what this machine is, as the provisioning server may know it: its physical NICs\n"
               "and their MACs, the SMBIOS system UUID, serial number, vendor and product, the number\n"
               "of CPUs, the memory and every disk with its size, serial, WWN and model. The same\n"
               "inventory goes with the installer's flash-started report. No configuration is needed.\n\n"
               "Options:\n"
               "      --json   print the inventory as one JSON object\n"
               "  -h, --help   show this help\n\n"
               "Exit status: 0 printed, 2 usage, 1 internal error.\n");
}

static void print_text(const Inventory *inv) {
        const Dmi *d = &inv->system;

        printf("System:  %s%s%s\n", d->vendor ? d->vendor : "-", d->product ? " " : "", strempty(d->product));
        printf("UUID:    %s\n", d->uuid ? d->uuid : "-");
        printf("Serial:  %s\n", d->serial ? d->serial : "-");
        printf("CPUs:    %u\n", inv->cpus);
        printf("Memory:  %s\n", inv->memory > 0 ? FMT_BYTES(inv->memory) : "-");
        printf("NICs:    %s\n", inv->nics.n == 0 ? "none" : "");
        for (size_t i = 0; i < inv->nics.n; i++)
                printf("  %-16s %s  %s\n", inv->nics.items[i].name, inv->nics.items[i].mac,
                       inv->nics.items[i].driver ? inv->nics.items[i].driver : "-");
        printf("Disks:   %s\n", inv->n_disks == 0 ? "none" : "");
        for (size_t i = 0; i < inv->n_disks; i++) {
                const InventoryDisk *k = &inv->disks[i];

                printf("  %-12s %-6s %10s  serial %s  wwn %s  model %s%s\n", k->name, k->type, FMT_BYTES(k->size),
                       k->serial ? k->serial : "-", k->wwn ? k->wwn : "-", k->model ? k->model : "-",
                       k->removable ? "  (removable)" : "");
        }
}

int verb_inventory(int argc, char *argv[], const GlobalOptions *g) {
        enum { ARG_JSON = 0x100 };
        static const struct option options[] = {
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_(inventory_done) Inventory inv = {};
        bool json = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_JSON:
                        json = true;
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'first-boot-agent inventory --help'.\n");
                        return EXIT_USAGE;
                }
        r = verbs_no_operands("inventory", argc, argv);
        if (r != EXIT_OK)
                return r;

        r = inventory_gather(NULL, &inv);
        if (r < 0) {
                log_error_errno(r, "Failed to gather the inventory: %m");
                return EXIT_INTERNAL;
        }
        if (inv.system.unreadable)
                fprintf(stderr, "Only root may read the SMBIOS UUID and serial number: run as root to see them.\n");

        if (json) {
                _cleanup_json_ json_t *o = inventory_to_json(&inv);

                if (!o || json_dumpf(o, stdout, JSON_INDENT(2)) < 0) {
                        log_oom();
                        return EXIT_INTERNAL;
                }
                putchar('\n');
        } else
                print_text(&inv);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_INTERNAL;
}
