/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "cleanup.h"
#include "digest.h"
#include "fileio.h"
#include "http.h"
#include "k3s.h"
#include "secret.h"
#include "string-util.h"
#include "url.h"

#define TOKEN_PREFIX "K10"
#define TOKEN_FILE_MAX (64 * 1024)
#define CACERTS_MAX (1024 * 1024)

_printf_(3, 4) static void set_error(char *error, size_t size, const char *fmt, ...) {
        va_list ap;

        if (!error || size == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(error, size, fmt, ap);
        va_end(ap);
}

K3sToken *k3s_token_free(K3sToken *t) {
        if (!t)
                return NULL;
        free(t->username);
        secret_free(t->password);
        free(t);
        return NULL;
}

/* kubeadm's bootstrap token: [a-z0-9]{6}.[a-z0-9]{16}. */
static bool is_bootstrap_token(const char *s) {
        if (strlen(s) != 23 || s[6] != '.')
                return false;
        for (size_t i = 0; i < 23; i++)
                if (i != 6 && !(islower((unsigned char) s[i]) || isdigit((unsigned char) s[i])))
                        return false;
        return true;
}

static bool is_hex_hash(const char *s, size_t n) {
        if (n != K3S_CA_HASH_SIZE - 1)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

int k3s_token_parse(const char *text, K3sToken **ret) {
        _cleanup_(k3s_token_freep) K3sToken *t = NULL;
        const char *creds, *colon;
        int r;

        if (!text || !*text)
                return -EINVAL;
        r = secret_register(text);
        if (r < 0)
                return r;
        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;

        if (startswith(text, TOKEN_PREFIX)) {
                const char *rest = text + strlen(TOKEN_PREFIX), *sep = strstr(rest, "::");

                if (sep) {
                        size_t n = (size_t) (sep - rest);

                        if (n > 0 && !is_hex_hash(rest, n))
                                return -EBADMSG;
                        memcpy(t->ca_hash, rest, n);
                        t->ca_hash[n] = '\0';
                        creds = sep + 2;
                } else
                        creds = rest;
        } else if (is_bootstrap_token(text))
                creds = text;
        else {
                /* A bare password: k3s reads it as user "" with that password. */
                t->username = strdup("");
                t->password = strdup(text);
                if (!t->username || !t->password)
                        return -ENOMEM;
                *ret = TAKE_PTR(t);
                return 0;
        }

        if (is_bootstrap_token(creds)) {
                t->bootstrap = true;
                t->username = strndup(creds, 6);
                t->password = strdup(creds + 7);
        } else {
                colon = strchr(creds, ':');
                if (!colon || !colon[1])
                        return -EBADMSG;
                t->username = strndup(creds, (size_t) (colon - creds));
                t->password = strdup(colon + 1);
        }
        if (!t->username || !t->password)
                return -ENOMEM;
        r = secret_register(t->password);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

int k3s_token_read(const char *path, K3sToken **ret) {
        _cleanup_(secret_freep) char *data = NULL;
        char *start, *end;
        int r;

        r = check_file_private(path, NULL);
        if (r < 0)
                return r;
        r = read_full_file(path, TOKEN_FILE_MAX, &data, NULL);
        if (r < 0)
                return r;
        start = data;
        while (*start && isspace((unsigned char) *start))
                start++;
        end = start + strlen(start);
        while (end > start && isspace((unsigned char) end[-1]))
                *--end = '\0';
        return k3s_token_parse(start, ret);
}

static void x509_stack_freep(STACK_OF(X509) **s) {
        if (*s)
                sk_X509_pop_free(*s, X509_free);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_STORE *, X509_STORE_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_STORE_CTX *, X509_STORE_CTX_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);

/* The root the first certificate chains to through the others, as k3s's hashCA() finds it: later
 * certificates without an authority key ID, or whose authority key ID is their subject key ID,
 * are the roots; the rest intermediates. NULL when no chain verifies. */
static X509 *bundle_root(STACK_OF(X509) *certs) {
        _cleanup_(X509_STORE_freep) X509_STORE *roots = X509_STORE_new();
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        _cleanup_(x509_stack_freep) STACK_OF(X509) *inter = sk_X509_new_null();
        STACK_OF(X509) *chain;

        if (!roots || !ctx || !inter)
                return NULL;
        for (int i = 1; i < sk_X509_num(certs); i++) {
                X509 *c = sk_X509_value(certs, i);
                const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(c);
                const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(c);

                if (!akid || (skid && ASN1_OCTET_STRING_cmp(akid, skid) == 0)) {
                        if (X509_STORE_add_cert(roots, c) != 1)
                                return NULL;
                } else {
                        if (!X509_up_ref(c))
                                return NULL;
                        if (!sk_X509_push(inter, c)) {
                                X509_free(c);
                                return NULL;
                        }
                }
        }
        if (X509_STORE_CTX_init(ctx, roots, sk_X509_value(certs, 0), inter) != 1 ||
            X509_verify_cert(ctx) != 1)
                return NULL;
        chain = X509_STORE_CTX_get0_chain(ctx);
        if (!chain || sk_X509_num(chain) < 1)
                return NULL;
        X509 *root = sk_X509_value(chain, sk_X509_num(chain) - 1);
        return X509_up_ref(root) ? root : NULL;
}

int k3s_ca_hash(const void *bundle, size_t size, char ret[static K3S_CA_HASH_SIZE]) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *certs = sk_X509_new_null();
        _cleanup_(BIO_freep) BIO *bio = NULL;
        uint8_t d[DIGEST_SHA256_SIZE];
        X509 *x;
        int r;

        if (!certs || size > INT32_MAX)
                return -ENOMEM;
        bio = BIO_new_mem_buf(bundle, (int) size);
        if (!bio)
                return -ENOMEM;
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
                if (!sk_X509_push(certs, x)) {
                        X509_free(x);
                        return -ENOMEM;
                }
        ERR_clear_error();
        if (sk_X509_num(certs) == 0)
                return -EBADMSG;

        if (sk_X509_num(certs) > 1) {
                X509 *root = bundle_root(certs);

                ERR_clear_error();
                if (root) {
                        _cleanup_free_ uint8_t *der = NULL;
                        int n = i2d_X509(root, &der);

                        X509_free(root);
                        if (n <= 0)
                                return -ENOMEM;
                        r = digest_sha256(der, (size_t) n, d);
                        if (r < 0)
                                return r;
                        digest_to_hex(d, sizeof d, ret);
                        return 0;
                }
        }
        r = digest_sha256(bundle, size, d);
        if (r < 0)
                return r;
        digest_to_hex(d, sizeof d, ret);
        return 0;
}

void k3s_ca_bundle_done(K3sCaBundle *b) {
        if (!b)
                return;
        free(b->pem);
        *b = (K3sCaBundle) {};
}

/* One GET, the status mapped to an errno. */
static int get(const TlsOptions *tls, const char *url, long timeout_ms, HttpResponse *resp,
               char *error, size_t error_size) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        char why[200];
        int r;

        r = http_client_new(tls, timeout_ms, timeout_ms, &c);
        if (r < 0)
                return r;
        r = http_perform(c, &(HttpRequest) { .method = "GET", .url = url, .max_body = CACERTS_MAX }, resp);
        if (r < 0) {
                set_error(error, error_size, "%s", resp->error);
                return r;
        }
        if (resp->status == 200 || resp->status == 404)
                return 0;
        set_error(error, error_size, "%s (HTTP %ld)", http_response_reason(resp, why, sizeof why),
                  resp->status);
        if (resp->status == 401 || resp->status == 403)
                return -EACCES;
        return resp->status >= 500 ? -EREMOTEIO : -EPROTO;
}

int k3s_cacerts_fetch(const char *server, long timeout_ms, K3sCaBundle *ret, char *error,
                      size_t error_size) {
        _cleanup_(http_response_done) HttpResponse resp = {}, again = {};
        _cleanup_free_ char *url = NULL;
        K3sCaBundle b = {};
        Url u;
        int r;

        if (!server || url_parse(server, 0, &u, NULL) < 0 || !u.https)
                return -EINVAL;
        url = url_join(server, "/cacerts");
        if (!url)
                return -ENOMEM;

        r = get(&(TlsOptions) { .insecure = true }, url, timeout_ms, &resp, error, error_size);
        if (r < 0)
                return r;
        if (resp.status != 200) {
                set_error(error, error_size, "%s answered HTTP %ld", url, resp.status);
                return -EPROTO;
        }
        r = k3s_ca_hash(resp.body, resp.body_size, b.hash);
        if (r < 0) {
                set_error(error, error_size, "%s served no PEM certificate", url);
                return r;
        }
        /* The bundle must sign the server's own certificate. */
        r = get(&(TlsOptions) { .ca_pem = resp.body }, url, timeout_ms, &again, error, error_size);
        if (r < 0)
                return r;
        b.pem = TAKE_PTR(resp.body);
        b.size = resp.body_size;
        *ret = b;
        return 0;
}

int k3s_cacerts_check(const K3sCaBundle *b, const K3sToken *t) {
        if (!t->ca_hash[0])
                return 0;
        /* Compared as k3s compares them, as strings: an upper-case hash in a token is one k3s
         * itself would refuse, so it is refused here, before k3s starts. */
        return streq(t->ca_hash, b->hash) ? 1 : -EKEYREJECTED;
}

static void copy_member(json_t *o, const char *key, char *buf, size_t size) {
        const char *v = json_string_value(json_object_get(o, key));

        snprintf(buf, size, "%s", v ?: "");
}

int k3s_node_get(const Kubeconfig *kc, const char *name, long timeout_ms, K3sNodeStatus *ret,
                 char *error, size_t error_size) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *escaped = NULL, *path = NULL, *url = NULL;
        _cleanup_(json_decrefp) json_t *node = NULL;
        K3sNodeStatus s = {};
        json_t *conditions, *c;
        size_t i;
        int r;

        if (!kc || !kc->server || !name || !*name)
                return -EINVAL;
        escaped = url_escape(name);
        if (!escaped || asprintf(&path, "/api/v1/nodes/%s", escaped) < 0)
                return -ENOMEM;
        url = url_join(kc->server, path);
        if (!url)
                return -ENOMEM;
        r = get(&(TlsOptions) { .ca_file = kc->ca_file, .cert_file = kc->cert_file, .key_file = kc->key_file },
                url, timeout_ms, &resp, error, error_size);
        if (r < 0)
                return r;
        if (resp.status == 404) {
                *ret = s;
                return 0;
        }
        node = json_loads(resp.body, 0, NULL);
        if (!json_is_object(node) || !json_is_string(json_object_get(node, "kind")) ||
            !streq(json_string_value(json_object_get(node, "kind")), "Node")) {
                set_error(error, error_size, "%s answered something else than a Node object", url);
                return -EPROTO;
        }
        s.registered = true;
        conditions = json_object_get(json_object_get(node, "status"), "conditions");
        json_array_foreach(conditions, i, c) {
                const char *type = json_string_value(json_object_get(c, "type"));

                if (!type || !streq(type, "Ready"))
                        continue;
                copy_member(c, "status", s.ready_status, sizeof s.ready_status);
                copy_member(c, "reason", s.reason, sizeof s.reason);
                copy_member(c, "message", s.message, sizeof s.message);
                s.ready = streq(s.ready_status, "True");
                break;
        }
        *ret = s;
        return 0;
}

bool k3s_password_rejected(const char *text) {
        return text && strstr(text, "Node password rejected");
}

int k3s_stale_command(const char *name, char **ret) {
        char *c;

        if (!name || !is_hostname(name))
                return -EINVAL;
        if (asprintf(&c, "kubectl -n kube-system delete secret %s.node-password.k3s", name) < 0)
                return -ENOMEM;
        *ret = c;
        return 0;
}
