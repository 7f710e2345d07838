/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-parser.h"
#include "config-static-network.h"
#include "config-value.h"
#include "json-util.h"
#include "strv.h"

static bool check_mac(const char *s, const char **ret_hint, bool *ret_hide) {
        if (strlen(s) != 17)
                return false;
        for (size_t i = 0; i < 17; i++)
                if (i % 3 == 2 ? s[i] != s[2] || (s[i] != ':' && s[i] != '-')
                               : !isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

static const ValueType value_mac = {
        .expected = "a MAC address such as \"52:54:00:12:34:56\"",
        .check = check_mac,
};

StaticNetworkConfig *static_network_config_free(StaticNetworkConfig *s) {
        if (!s)
                return NULL;
        free(s->mac);
        free(s->address);
        free(s->gateway);
        strv_free(s->dns);
        free(s);
        return NULL;
}

int config_static_network_parse(ConfigParser *p, json_t *obj, const char *path) {
        static const char *const keys[] = { "mac", "address", "gateway", "dns", "wait_s", NULL };
        _cleanup_(static_network_config_freep) StaticNetworkConfig *s = NULL;
        size_t n_before = p->problems->n;
        int64_t wait = 60;
        int r;

        if (!json_is_object(obj)) {
                r = json_add_problem(p->problems, path, "an object with at least \"address\"", obj, NULL);
                return r < 0 ? r : 0;
        }
        s = calloc(1, sizeof(StaticNetworkConfig));
        if (!s)
                return -ENOMEM;

        KEEP_GOING(json_check_keys(obj, path, keys, p->problems));
        KEEP_GOING(config_get_value(obj, path, "mac", &value_mac, false, &s->mac, p->problems));
        KEEP_GOING(config_get_value(obj, path, "address", &config_value_cidr, true, &s->address, p->problems));
        KEEP_GOING(config_get_value(obj, path, "gateway", &config_value_ip, false, &s->gateway, p->problems));
        KEEP_GOING(config_get_value_list(obj, path, "dns", &config_value_ip, &s->dns, p->problems));
        KEEP_GOING(config_get_integer(obj, path, "wait_s", 1, 3600, "seconds", &wait, NULL, p->problems));
        s->wait = (usec_t) wait * USEC_PER_SEC;
        if (p->problems->n > n_before)
                return 0;

        if (s->mac)
                for (char *c = s->mac; *c; c++)
                        *c = *c == '-' ? ':' : (char) tolower((unsigned char) *c);
        p->config->network_static = TAKE_PTR(s);
        return 0;
}
