/* SPDX-License-Identifier: MIT */
#pragma once

/* The few fields of a kubeconfig file that a client with a certificate needs, as k3s writes the
 * kubelet's (/var/lib/rancher/k3s/agent/kubelet.kubeconfig): the current context's cluster
 * (server, certificate-authority) and user (client-certificate, client-key), all file paths.
 * Relative paths are taken from the file's directory, as kubectl does. Without current-context,
 * the first cluster and user. Read with libyaml. Never logs. */

#define KUBECONFIG_KUBELET "/var/lib/rancher/k3s/agent/kubelet.kubeconfig"

typedef struct Kubeconfig {
        char *server;                   /* "https://127.0.0.1:6444" */
        char *ca_file;
        char *cert_file;
        char *key_file;
} Kubeconfig;

/* -ENOENT (and other errno) when the file cannot be read; -EBADMSG when it is not YAML or lacks a
 * field, with *ret_why (static text, may be NULL) naming what is missing or wrong. Embedded data
 * (certificate-authority-data, …) is not supported: -EOPNOTSUPP. ret is filled only on success. */
int kubeconfig_read(const char *path, Kubeconfig *ret, const char **ret_why);
void kubeconfig_done(Kubeconfig *kc);
