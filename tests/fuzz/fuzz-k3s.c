/* SPDX-License-Identifier: MIT */
/* libFuzzer target: arbitrary bytes as what k3s hands the agent — a /cacerts answer (untrusted,
 * fetched without verification), a join token, the kubelet's kubeconfig. The hash is always
 * 64 lower-case hex digits or -EBADMSG; a parsed token's password never survives redaction; a
 * kubeconfig read gives all four fields or none. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "k3s.h"
#include "kubeconfig.h"
#include "secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char hash[K3S_CA_HASH_SIZE], path[64];
        K3sToken *t = NULL;
        Kubeconfig kc = {};
        char *text;
        int r, fd;

        r = k3s_ca_hash(data, size, hash);
        if (r >= 0) {
                if (strlen(hash) != 64)
                        abort();
                for (size_t i = 0; i < 64; i++)
                        if (!isxdigit((unsigned char) hash[i]) || isupper((unsigned char) hash[i]))
                                abort();
        } else if (r != -EBADMSG && r != -ENOMEM)
                abort();

        text = strndup((const char *) data, size);
        if (!text)
                return 0;
        if (k3s_token_parse(text, &t) >= 0) {
                char *red = secret_redact(text);

                if (!t->password || (strlen(t->password) >= 4 && red && strstr(red, t->password)))
                        abort();
                free(red);
                k3s_token_free(t);
        }
        secret_forget_all();
        free(text);

        fd = memfd_create("kubeconfig", MFD_CLOEXEC);
        if (fd < 0)
                return 0;
        if (write(fd, data, size) == (ssize_t) size) {
                snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
                if (kubeconfig_read(path, &kc, NULL) >= 0) {
                        if (!kc.server || !kc.ca_file || !kc.cert_file || !kc.key_file)
                                abort();
                        kubeconfig_done(&kc);
                } else if (kc.server)
                        abort();
        }
        close(fd);
        return 0;
}
