/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base64.h"
#include "cleanup.h"
#include "signature.h"

/* RSA keys up to 16384 bits: a base64 signature is never longer. */
#define SIGNATURE_MAX_SIZE 4096

struct SignatureKey {
        EVP_PKEY *pkey;
        SignatureKeyType type;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free);

int signature_key_load(const char *path, SignatureKey **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        SignatureKey *k;
        EVP_PKEY *pkey;
        int id;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        ERR_clear_error();
        if (!pkey)
                return -EBADMSG;

        id = EVP_PKEY_get_base_id(pkey);
        if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) {
                EVP_PKEY_free(pkey);
                return -EOPNOTSUPP;
        }
        k = calloc(1, sizeof *k);
        if (!k) {
                EVP_PKEY_free(pkey);
                return -ENOMEM;
        }
        k->pkey = pkey;
        k->type = id == EVP_PKEY_RSA ? SIGNATURE_KEY_RSA : SIGNATURE_KEY_ED25519;
        *ret = k;
        return 0;
}

SignatureKey *signature_key_free(SignatureKey *k) {
        if (!k)
                return NULL;
        EVP_PKEY_free(k->pkey);
        free(k);
        return NULL;
}

SignatureKeyType signature_key_type(const SignatureKey *k) {
        return k->type;
}

const char *signature_key_type_to_string(SignatureKeyType t) {
        return t == SIGNATURE_KEY_RSA ? "RSA" : "Ed25519";
}

static int verify_raw(const SignatureKey *k, const uint8_t *digest, const uint8_t *sig,
                      size_t sig_size) {
        int r;

        if (k->type == SIGNATURE_KEY_ED25519) {
                _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();

                if (!ctx)
                        return -ENOMEM;
                if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) != 1)
                        return -EIO;
                r = EVP_DigestVerify(ctx, sig, sig_size, digest, DIGEST_SHA256_SIZE);
        } else {
                _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);

                if (!ctx)
                        return -ENOMEM;
                if (EVP_PKEY_verify_init(ctx) != 1 ||
                    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
                    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1)
                        return -EIO;
                r = EVP_PKEY_verify(ctx, sig, sig_size, digest, DIGEST_SHA256_SIZE);
        }
        return r == 1 ? 0 : -EBADMSG;
}

int signature_verify(const SignatureKey *k, const uint8_t digest[static DIGEST_SHA256_SIZE],
                     const void *sig, size_t sig_size) {
        uint8_t decoded[SIGNATURE_MAX_SIZE];
        size_t n;
        int r;

        if (sig_size == 0 || sig_size > SIGNATURE_MAX_SIZE)
                return -EBADMSG;
        r = verify_raw(k, digest, sig, sig_size);
        if (r != -EBADMSG)
                goto done;
        /* Not valid as raw bytes: maybe base64 text. */
        if (base64_decode(sig, sig_size, decoded, sizeof decoded, &n) < 0 || n == 0)
                goto done;
        r = verify_raw(k, digest, decoded, n);
done:
        ERR_clear_error();
        return r;
}
