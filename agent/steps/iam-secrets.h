/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

/* The IAM admin's credentials, read from the secrets file. Every secret is registered for
 * redaction (secret.h) as soon as it is read, and wiped from memory by iam_secrets_done(). */
typedef struct IamSecrets {
        char *username;
        char *password;
        char *bootstrap_token;          /* NULL when the file has none */
} IamSecrets;

/* Refuses a file that group or others may read (naming the mode and the chmod to run), and
 * anything but {"username","password"[,"bootstrap_token"]} with non-empty strings. Logs. */
int iam_secrets_load(const char *path, IamSecrets *ret);
void iam_secrets_done(IamSecrets *s);

