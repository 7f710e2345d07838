/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "digest.h"
#include "signature.h"
#include "tap.h"

/* Writes the public half of pkey as PEM to a new temporary file; returns its path. */
static char *write_pubkey(EVP_PKEY *pkey) {
        static char path[64];
        FILE *f;

        snprintf(path, sizeof path, "/tmp/test-signature-%d-XXXXXX", (int) getpid());
        f = fdopen(mkstemp(path), "w");
        PEM_write_PUBKEY(f, pkey);
        fclose(f);
        return path;
}

static size_t sign(EVP_PKEY *pkey, const uint8_t *digest, uint8_t *sig, size_t cap) {
        size_t n = cap;

        if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
                EVP_MD_CTX *ctx = EVP_MD_CTX_new();
                EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey);
                EVP_DigestSign(ctx, sig, &n, digest, DIGEST_SHA256_SIZE);
                EVP_MD_CTX_free(ctx);
        } else {
                EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
                EVP_PKEY_sign_init(ctx);
                EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
                EVP_PKEY_sign(ctx, sig, &n, digest, DIGEST_SHA256_SIZE);
                EVP_PKEY_CTX_free(ctx);
        }
        return n;
}

static void check(const char *what, EVP_PKEY *pkey, EVP_PKEY *other) {
        uint8_t digest[DIGEST_SHA256_SIZE], sig[1024];
        char b64[2048];
        SignatureKey *k = NULL, *wrong = NULL;
        char *path;
        size_t n;

        digest_sha256("the image", 9, digest);
        n = sign(pkey, digest, sig, sizeof sig);
        path = write_pubkey(pkey);
        ok(signature_key_load(path, &k) == 0, "%s: key loads", what);
        unlink(path);
        path = write_pubkey(other);
        ok(signature_key_load(path, &wrong) == 0, "%s: other key loads", what);
        unlink(path);
        is_int(signature_verify(k, digest, sig, n), 0, "%s: valid signature", what);
        EVP_EncodeBlock((unsigned char *) b64, sig, (int) n);
        strcat(b64, "\n");
        is_int(signature_verify(k, digest, b64, strlen(b64)), 0, "%s: valid base64 signature", what);
        is_int(signature_verify(wrong, digest, sig, n), -EBADMSG, "%s: another key refuses it", what);
        digest[0] ^= 1;
        is_int(signature_verify(k, digest, sig, n), -EBADMSG, "%s: other data refused", what);
        digest[0] ^= 1;
        sig[n / 2] ^= 0x10;
        is_int(signature_verify(k, digest, sig, n), -EBADMSG, "%s: damaged signature refused", what);
        is_int(signature_verify(k, digest, sig, 0), -EBADMSG, "%s: empty signature refused", what);
        signature_key_free(k);
        signature_key_free(wrong);
}

int main(void) {
        EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        EVP_PKEY *ed2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        EVP_PKEY *rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        SignatureKey *k = NULL;
        char *path;

        check("Ed25519", ed, ed2);
        check("RSA", rsa, rsa2);
        path = write_pubkey(ec);
        is_int(signature_key_load(path, &k), -EOPNOTSUPP, "EC keys are not supported");
        unlink(path);
        is_int(signature_key_load("/nonexistent/key.pem", &k), -ENOENT, "missing key file");
        is_int(signature_key_load("/etc/hostname", &k), -EBADMSG, "not a PEM key");
        EVP_PKEY_free(ed);
        EVP_PKEY_free(ed2);
        EVP_PKEY_free(rsa);
        EVP_PKEY_free(rsa2);
        EVP_PKEY_free(ec);
        return tap_done();
}
