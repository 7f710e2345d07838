/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* Values a node derives from its identity, so that the same machine — or its replacement under
 * the same name — presents the same ones after a re-flash, with nothing kept on the node:
 *
 *   k3s node password = hex(HMAC-SHA256(key = cluster secret,
 *                                       message = "k3s-node-password:" NODE_NAME))
 *   Consul node ID    = UUID version 8 (RFC 9562 §5.8) from the first 16 bytes of
 *                       SHA-256("consul-node-id:" NODE_NAME ["\n" MACHINE]), version and
 *                       variant bits set
 *
 * The password is a secret: whoever holds the cluster secret can compute any node's password
 * (and so take over that node's name at the k3s server); without the secret, the password of
 * one node says nothing about another's. The node ID is not a secret (Consul does not use it to
 * authenticate), only stable: anyone who knows the name can compute it. The prefixes keep each
 * value to its one purpose. Never logs. */

#define DERIVE_SECRET_MIN 16                    /* bytes of cluster secret, at least */
#define DERIVE_PASSWORD_SIZE (2 * 32 + 1)       /* hex of HMAC-SHA256, NUL */
#define DERIVE_UUID_SIZE 37                     /* 8-4-4-4-12, lower case, NUL */

#define DERIVE_K3S_NODE_PASSWORD "k3s-node-password"
#define DERIVE_CONSUL_NODE_ID "consul-node-id"

/* hex(HMAC-SHA256(secret, purpose ":" name)) into ret. -EINVAL: no name, or a secret shorter than
 * DERIVE_SECRET_MIN; -EIO: OpenSSL failed. */
int derive_password(const void *secret, size_t secret_size, const char *purpose, const char *name,
                    char ret[static DERIVE_PASSWORD_SIZE]);

/* The cluster secret from a file: its bytes, trailing newlines (CR, LF) removed so that a file
 * written with echo and one written with printf give the same secret. The file must be private
 * (check_file_private(): -EPERM otherwise). The buffer is wiped when freed with
 * secret_free_buffer(p, size). -EINVAL: shorter than DERIVE_SECRET_MIN after the cut. */
int derive_secret_read(const char *path, void **ret, size_t *ret_size);

/* The UUID version 8 of purpose ":" name, with "\n" machine appended when machine is not NULL
 * (a serial number that survives a re-flash: then a replacement machine gets another ID). */
int derive_uuid(const char *purpose, const char *name, const char *machine,
                char ret[static DERIVE_UUID_SIZE]);
