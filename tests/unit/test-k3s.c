/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "k3s.h"
#include "secret.h"
#include "tap.h"

/* The token's forms as k3s's pkg/clientaccess/token.go parses them, and its CA hash of three
 * bundles in tests/data/k3s, the expected hashes computed with sha256sum and openssl:
 *   ca-single.pem     one certificate: sha256sum of the file
 *   ca-bundle.pem     intermediate + root: sha256 of the root's DER (openssl x509 -outform DER)
 *   ca-unrelated.pem  a certificate and an unrelated root: no chain, sha256sum of the file */
#define HASH "721ae7c92ff36748b0324289b4a61d591c21920ccdfb125563cbfaf327e8ca09"

static void check_hash(const char *name, const char *expected) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        char hash[K3S_CA_HASH_SIZE] = "";
        size_t size = 0;

        if (asprintf(&path, "%s/tests/data/k3s/%s", getenv("FBA_SOURCE_ROOT") ?: ".", name) < 0 ||
            read_full_file(path, 1 << 20, &data, &size) < 0) {
                ok(0, "read %s", name);
                return;
        }
        is_int(k3s_ca_hash(data, size, hash), 0, "hash of %s", name);
        is_str(hash, expected, "k3s's hash of %s", name);
}

int main(void) {
        K3sToken *t = NULL;
        char dir[] = "/tmp/test-k3s-XXXXXX", path[256];
        K3sCaBundle b = {};
        FILE *f;

        is_int(k3s_token_parse("K10" HASH "::server:s3cr3t-passw0rd", &t), 0, "secure token");
        is_str(t->ca_hash, HASH, "its CA hash");
        is_str(t->username, "server", "its user");
        is_str(t->password, "s3cr3t-passw0rd", "its password");
        ok(!t->bootstrap, "not a bootstrap token");
        ok(secret_count() >= 2, "token and password registered as secrets");
        {
                char *r = secret_redact("token K10" HASH "::server:s3cr3t-passw0rd and s3cr3t-passw0rd");

                ok(r && !strstr(r, "s3cr3t"), "neither can reach a record: %s", r);
                free(r);
        }
        b.size = 0;
        snprintf(b.hash, sizeof b.hash, "%s", HASH);
        is_int(k3s_cacerts_check(&b, t), 1, "the served bundle's hash is the token's");
        b.hash[0] = 'f';
        is_int(k3s_cacerts_check(&b, t), -EKEYREJECTED, "another bundle is refused");
        t = k3s_token_free(t);
        snprintf(b.hash, sizeof b.hash, "%s", HASH);
        is_int(k3s_token_parse("K10721AE7C92FF36748B0324289B4A61D591C21920CCDFB125563CBFAF327E8CA09::server:pw1234", &t), 0,
               "a token with the hash in upper case parses");
        is_int(k3s_cacerts_check(&b, t), -EKEYREJECTED, "but does not match, as k3s would not");
        t = k3s_token_free(t);

        is_int(k3s_token_parse("K10::node:pass:with:colons", &t), 0, "no hash");
        is_str(t->ca_hash, "", "pins no CA");
        is_str(t->password, "pass:with:colons", "the password keeps its colons");
        is_int(k3s_cacerts_check(&b, t), 0, "nothing to check without a hash");
        t = k3s_token_free(t);

        is_int(k3s_token_parse("just-a-password", &t), 0, "short form: a bare password");
        ok(streq(t->username, "") && streq(t->password, "just-a-password") && !t->ca_hash[0], "user \"\", no hash");
        t = k3s_token_free(t);

        is_int(k3s_token_parse("abcdef.0123456789abcdef", &t), 0, "short form: a bootstrap token");
        ok(t->bootstrap && streq(t->username, "abcdef") && streq(t->password, "0123456789abcdef"), "its id and secret");
        t = k3s_token_free(t);
        is_int(k3s_token_parse("K10" HASH "::abcdef.0123456789abcdef", &t), 0, "secure bootstrap token");
        ok(t->bootstrap && streq(t->ca_hash, HASH), "bootstrap with hash");
        t = k3s_token_free(t);

        is_int(k3s_token_parse("K10abc::server:pw12", &t), -EBADMSG, "a short hash is refused (invalid token CA hash length)");
        is_int(k3s_token_parse("K10" HASH "::nocolon", &t), -EBADMSG, "credentials without ':' (invalid token format)");
        is_int(k3s_token_parse("K10" HASH "::user:", &t), -EBADMSG, "an empty password");
        is_int(k3s_token_parse("", &t), -EINVAL, "empty token");
        ok(t == NULL, "nothing returned on error");

        secret_forget_all();
        if (!mkdtemp(dir))
                abort();
        snprintf(path, sizeof path, "%s/token", dir);
        f = fopen(path, "we");
        fputs("  K10" HASH "::server:from-a-file-pw\n", f);
        fclose(f);
        chmod(path, 0600);
        is_int(k3s_token_read(path, &t), 0, "token file, blanks trimmed");
        ok(t && streq(t->password, "from-a-file-pw"), "its password");
        t = k3s_token_free(t);
        chmod(path, 0644);
        is_int(k3s_token_read(path, &t), -EPERM, "a token file others can read is refused");
        unlink(path);
        rmdir(dir);

        check_hash("ca-single.pem", HASH);
        check_hash("ca-bundle.pem", "f9b782ba0949314fb759f6575bc86a01a3c4df6afd6950aaa08485560ccda00c");
        check_hash("ca-unrelated.pem", "5bc1769612bf75b9159f2b4e89058bd9749c35cb051871d4644233b2a671acc0");
        {
                char h[K3S_CA_HASH_SIZE];

                is_int(k3s_ca_hash("no certificate here", 19, h), -EBADMSG, "no PEM certificate");
        }
        is_int(k3s_cacerts_fetch("http://127.0.0.1:6443", 1000, &b, NULL, 0), -EINVAL, "only https:// servers");
        is_int(k3s_cacerts_fetch("https://127.0.0.1:6443/path", 1000, &b, NULL, 0), -EINVAL, "no path");
        {
                _cleanup_free_ char *cmd = NULL;

                is_int(k3s_stale_command("node07", &cmd), 0, "the operator's command");
                is_str(cmd, "kubectl -n kube-system delete secret node07.node-password.k3s", "deletes the node password");
                is_int(k3s_stale_command("node07; rm -rf /", &cmd), -EINVAL, "not for a name a shell would read as more");
                ok(k3s_password_rejected("level=info msg=\"Waiting to retrieve agent configuration; server is not ready: "
                                         K3S_PASSWORD_REJECTED "\""), "k3s's log line recognised");
                ok(!k3s_password_rejected("level=info msg=\"Waiting to retrieve agent configuration\""), "another is not");
        }
        secret_forget_all();
        return tap_done();
}
