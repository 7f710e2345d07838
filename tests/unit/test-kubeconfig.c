/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kubeconfig.h"
#include "tap.h"

static char dir[] = "/tmp/test-kubeconfig-XXXXXX";

static const char *write_config(const char *text) {
        static char path[256];
        FILE *f;

        snprintf(path, sizeof path, "%s/kubelet.kubeconfig", dir);
        f = fopen(path, "we");
        if (!f)
                abort();
        fputs(text, f);
        fclose(f);
        return path;
}

/* As k3s writes the kubelet's (pkg/agent/config: a context "Default", cluster "local", user
 * "user"), with a second cluster and user the current context does not name. */
static const char kubelet[] =
        "apiVersion: v1\n"
        "clusters:\n"
        "- cluster:\n"
        "    server: https://10.0.0.9:6443\n"
        "    certificate-authority: /elsewhere/ca.crt\n"
        "  name: other\n"
        "- cluster:\n"
        "    server: https://127.0.0.1:6444\n"
        "    certificate-authority: /var/lib/rancher/k3s/agent/server-ca.crt\n"
        "  name: local\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: local\n"
        "    namespace: default\n"
        "    user: user\n"
        "  name: Default\n"
        "current-context: Default\n"
        "kind: Config\n"
        "preferences: {}\n"
        "users:\n"
        "- name: other\n"
        "  user: {client-certificate: /x.crt, client-key: /x.key}\n"
        "- name: user\n"
        "  user:\n"
        "    client-certificate: client-kubelet.crt\n"
        "    client-key: \"/var/lib/rancher/k3s/agent/client-kubelet.key\"\n";

int main(void) {
        Kubeconfig kc = {};
        const char *why = NULL, *p;
        char expect[300];

        if (!mkdtemp(dir))
                abort();
        p = write_config(kubelet);
        is_int(kubeconfig_read(p, &kc, &why), 0, "k3s's kubelet kubeconfig");
        is_str(kc.server, "https://127.0.0.1:6444", "the current context's server");
        is_str(kc.ca_file, "/var/lib/rancher/k3s/agent/server-ca.crt", "its CA");
        snprintf(expect, sizeof expect, "%s/client-kubelet.crt", dir);
        is_str(kc.cert_file, expect, "a relative certificate path is taken from the file's directory");
        is_str(kc.key_file, "/var/lib/rancher/k3s/agent/client-kubelet.key", "quoted key path");
        kubeconfig_done(&kc);

        p = write_config("clusters:\n- name: a\n  cluster: {server: 'https://h:1', certificate-authority: /ca}\n"
                         "users:\n- name: u\n  user: {client-certificate: /c, client-key: /k}\n");
        is_int(kubeconfig_read(p, &kc, &why), 0, "without current-context: the first cluster and user");
        is_str(kc.server, "https://h:1", "its server");
        kubeconfig_done(&kc);

        p = write_config("clusters:\n- name: a\n  cluster: {server: 'https://h:1'}\n"
                         "users:\n- name: u\n  user: {client-certificate: /c, client-key: /k}\n");
        is_int(kubeconfig_read(p, &kc, &why), -EBADMSG, "no CA");
        is_str(why, "no cluster.certificate-authority", "named");
        p = write_config("current-context: nope\nclusters: []\n");
        is_int(kubeconfig_read(p, &kc, &why), -EBADMSG, "a current context that is not there");
        p = write_config("clusters:\n- name: a\n  cluster: {server: 'https://h:1', certificate-authority-data: AAAA}\n"
                         "users:\n- name: u\n  user: {client-certificate-data: AAAA, client-key-data: AAAA}\n");
        is_int(kubeconfig_read(p, &kc, &why), -EOPNOTSUPP, "embedded certificates are not supported");
        p = write_config("key: [unclosed\n");
        is_int(kubeconfig_read(p, &kc, &why), -EBADMSG, "not YAML");
        is_str(why, "not YAML", "said so");
        ok(kc.server == NULL, "nothing returned on errors");
        unlink(p);
        is_int(kubeconfig_read(p, &kc, &why), -ENOENT, "no file");
        rmdir(dir);
        return tap_done();
}
