/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "derive.h"
#include "secret.h"
#include "tap.h"

/* The expected values were computed with Python's hmac, hashlib and uuid modules:
 *   hmac.new(SECRET, b"k3s-node-password:node07", hashlib.sha256).hexdigest()
 *   uuid.UUID(bytes=sha256(b"consul-node-id:node07")[:16] with version 8, variant 10) */
#define SECRET "0123456789abcdef-cluster-secret"

static void write_file(const char *path, const char *text, mode_t mode) {
        FILE *f = fopen(path, "we");

        if (!f)
                abort();
        fputs(text, f);
        fclose(f);
        chmod(path, mode);
}

int main(void) {
        char pw[DERIVE_PASSWORD_SIZE], pw2[DERIVE_PASSWORD_SIZE], id[DERIVE_UUID_SIZE];
        char dir[] = "/tmp/test-derive-XXXXXX", path[256];
        void *s = NULL;
        size_t n = 0;

        ok(derive_password(SECRET, strlen(SECRET), DERIVE_K3S_NODE_PASSWORD, "node07", pw) == 0, "password");
        is_str(pw, "537f67f32c4b2ec915ac330087218f38b6e2f132c726e4f802462ff42fb19b8a", "node07's password");
        ok(derive_password(SECRET, strlen(SECRET), DERIVE_K3S_NODE_PASSWORD, "node08", pw2) == 0, "another node");
        is_str(pw2, "96e9b7555cddc39cb4e3ed06cf34babb6f41104db7368d000f197d34f7b47a78", "node08's password");
        ok(derive_password("0123456789abcdef-other-secret", 29, DERIVE_K3S_NODE_PASSWORD, "node07", pw2) == 0 &&
           strcmp(pw, pw2) != 0, "another cluster secret, another password");
        is_int(derive_password("short", 5, DERIVE_K3S_NODE_PASSWORD, "node07", pw2), -EINVAL, "a short secret is refused");
        is_int(derive_password(SECRET, strlen(SECRET), DERIVE_K3S_NODE_PASSWORD, "", pw2), -EINVAL, "no name");

        ok(derive_uuid(DERIVE_CONSUL_NODE_ID, "node07", NULL, id) == 0, "node id");
        is_str(id, "890d4f4c-118d-8eb9-babf-6e3a3d06f992", "node07's node id (version 8, variant 10)");
        ok(derive_uuid(DERIVE_CONSUL_NODE_ID, "node07", "SN-1234", id) == 0, "node id with a machine");
        is_str(id, "44b41d97-d7ed-81ba-b6bb-f4d1cf63592b", "node07's node id bound to serial SN-1234");
        is_int(derive_uuid(DERIVE_CONSUL_NODE_ID, NULL, NULL, id), -EINVAL, "no name, no id");

        if (!mkdtemp(dir))
                abort();
        snprintf(path, sizeof path, "%s/secret", dir);
        write_file(path, SECRET "\n", 0600);
        ok(derive_secret_read(path, &s, &n) == 0, "secret file read");
        ok(n == strlen(SECRET) && memcmp(s, SECRET, n) == 0, "its trailing newline cut");
        ok(derive_password(s, n, DERIVE_K3S_NODE_PASSWORD, "node07", pw2) == 0 && strcmp(pw, pw2) == 0,
           "the file's secret gives the same password as printf's");
        s = secret_free_buffer(s, n);
        write_file(path, SECRET, 0644);
        is_int(derive_secret_read(path, &s, &n), -EPERM, "a secret file others may read is refused");
        write_file(path, "too short\n\n", 0600);
        is_int(derive_secret_read(path, &s, &n), -EINVAL, "a secret under 16 bytes is refused");
        unlink(path);
        is_int(derive_secret_read(path, &s, &n), -ENOENT, "a missing secret file");
        rmdir(dir);
        return tap_done();
}
