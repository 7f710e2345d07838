/* SPDX-License-Identifier: MIT */
/* libFuzzer target: arbitrary bytes as a server's answer body, through everything the agent
 * reads from one: the member list of the admin API and of etcd, and the reason it quotes from
 * an error answer. Each must end in a result or an error, every text it keeps must be free of
 * what acts on a terminal, and a registered secret must never survive in a quoted reason. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "member.h"
#include "secret.h"

#define SECRET "pa\"ss\\word-7"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_printable(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; s && *p; p++)
                if (*p < ' ' || *p == 0x7F || (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F))
                        abort();
}

static void check_list(const MemberDriver *d, const HttpResponse *resp) {
        MemberList l = {};
        int r;

        r = d->parse_list(resp, &l);
        if (r < 0 && (l.n != 0 || l.items))
                abort();
        if (r >= 0)
                for (size_t i = 0; i < l.n; i++) {
                        if (!l.items[i].id)
                                abort();
                        check_printable(l.items[i].id);
                        check_printable(l.items[i].name);
                        check_printable(l.items[i].raft_addr);
                        check_printable(l.items[i].status);
                        (void) member_list_find(&l, l.items[i].id, l.items[i].raft_addr);
                }
        member_list_done(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *body, reason[160];
        HttpResponse resp;

        if (size > 1024 * 1024)
                return 0;
        if (secret_count() == 0 && secret_register(SECRET) < 0)
                abort();

        body = malloc(size + 1);
        if (!body)
                return 0;
        memcpy(body, data, size);
        body[size] = '\0';
        resp = (HttpResponse) { .status = 400, .body = body, .body_size = size };

        check_list(&member_driver_admin, &resp);
        check_list(&member_driver_etcd, &resp);

        http_response_reason(&resp, reason, sizeof reason);
        if (strlen(reason) >= sizeof reason || strchr(reason, '\n'))
                abort();
        check_printable(reason);
        /* The whole secret, raw or as JSON escapes it, never survives (what the body only half
         * holds is not the secret). */
        if (strstr(reason, SECRET) || strstr(reason, "pa\\\"ss\\\\word-7"))
                abort();

        free(body);
        return 0;
}
