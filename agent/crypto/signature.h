/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "digest.h"

/* Detached signatures over a SHA-256 digest, checked with OpenSSL.
 *
 * What is signed is the 32-byte SHA-256 of the covered bytes (the file as served, or the
 * uncompressed image, as the config says), so the check needs no second pass over the data:
 *   RSA:     PKCS#1 v1.5 with SHA-256, as "openssl dgst -sha256 -sign KEY FILE" makes;
 *   Ed25519: the signature of the 32 raw digest bytes, as
 *            "openssl dgst -sha256 -binary FILE | openssl pkeyutl -sign -rawin -inkey KEY" makes
 *            (pure Ed25519 cannot be computed over a stream; its input is the digest).
 * The signature file holds the raw signature bytes, or the same in base64. */

typedef enum SignatureKeyType {
        SIGNATURE_KEY_RSA,
        SIGNATURE_KEY_ED25519,
} SignatureKeyType;

typedef struct SignatureKey SignatureKey;

/* Loads a PEM public key (SubjectPublicKeyInfo). -ENOENT: no such file; -EBADMSG: not a PEM
 * public key; -EOPNOTSUPP: neither RSA nor Ed25519. */
int signature_key_load(const char *path, SignatureKey **ret);
SignatureKey *signature_key_free(SignatureKey *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(SignatureKey *, signature_key_free);
SignatureKeyType signature_key_type(const SignatureKey *k);
const char *signature_key_type_to_string(SignatureKeyType t);

/* 0 when sig is a valid signature of digest by key; -EBADMSG when it is not (or is malformed). */
int signature_verify(const SignatureKey *k, const uint8_t digest[static DIGEST_SHA256_SIZE],
                     const void *sig, size_t sig_size);
