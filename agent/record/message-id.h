/* SPDX-License-Identifier: MIT */
#pragma once

/* Stable MESSAGE_IDs, one per kind of event. units/first-boot-agent.catalog explains each one;
 * never change an ID once released: operators filter on them (journalctl MESSAGE_ID=…). */

#define MID_AGENT_START "7444ba3d21394e2b89c7044b257a28b8" /* the agent started (verb, version) */
#define MID_MODE_DECIDED "9363bb69a9b34a5d9f97bc7e81443ec2" /* run mode chosen and the signal that chose it */
#define MID_CONFIG_INVALID "455af10f00fa4ae5a0371080a92542fb" /* configuration refused */
#define MID_STEP_BEGIN "77aa53bb1cf84eb3a11fb6e3da250543" /* a step started */
#define MID_STEP_DONE "1d8c0c78a1054b0b8af1cc8e335304fa" /* a step finished successfully */
#define MID_STEP_SKIPPED "9f96708df775447bb83a01534d2cb2cd" /* a step skipped: its marker exists or it is disabled */
#define MID_STEP_FAILED "75917513556e4481a9ff624df6b7aece" /* a step failed; the walk stops */
#define MID_ATTEMPT_FAILED "ba72bcfa0f39458aba7df84d625aa840" /* one attempt failed and will be retried */
#define MID_SERVICE_HEALTHY "3215025033984a81879da3ab6308ffb9" /* a local service answered its health check */
#define MID_HEALTH_TIMEOUT "4bef1cfbbf2749e0b838b31f923b25a8" /* a service did not become healthy before the deadline */
#define MID_CLUSTER_BOOTSTRAP "2cba5d25b57f490da69d414f8cfb9a8d" /* bootstrap node: the cluster forms from initial_peers, no join call */
#define MID_MEMBER_JOINED "2b4be3a6bf0f4160be6ee2f29456f53e" /* the leader added this node */
#define MID_MEMBER_ALREADY "7f209cb95ac343a48cede4aa8fcef402" /* this node was already a member */
#define MID_MEMBER_PROMOTED "5a852cfdd830483c82e2319a8090d82a" /* an etcd learner was promoted to a voting member */
#define MID_ETCD_CONFIGURED "c0bd81eb3e4b49ee8eaf7f2bfef4ea8b" /* the local etcd's settings were written */
#define MID_SERVICE_STARTED "2caedabd91f84865ab2e4b60aa7f873d" /* a local service (etcd, k3s, Consul) was (re)started */
#define MID_JOIN_REFUSED "ebadbbaffed741bd8d522825597d46ed" /* the leader refused the join with a 4xx */
#define MID_JOIN_DELAYED "f626de3efd0e44dda6aeba6629ef9cb7" /* a random start delay before the first join request */
#define MID_JOIN_LOCK_WAITING "fd3dfcc2757648ae8b6321c4939e3f89" /* another node holds the etcd join lock */
#define MID_JOIN_LOCK_TAKEN "ee12f7c5186c4ea9b62d60bb67146764" /* this node holds the etcd join lock */
#define MID_JOIN_LOCK_LOST "a8f27f32dc294612b4c2bc9fca3a551b" /* the join lock's lease ran out while held */
#define MID_MEMBER_STALE "4767576cb0524ceeaa457ce94cf00b59" /* a member stands where this node would: refused */
#define MID_MEMBER_REPLACED "8a9dd2b5ea51481aaf265dad2eedb7a0" /* a stale member was removed (replace_stale_member) */
#define MID_PEER_FALLBACK "9cd55e0455e643599d24f023dcd4451e" /* the leader did not answer; trying another peer */
#define MID_LEADER_HINT_REFUSED "1afe1235b33142db9f7605092a0e4da8" /* a "not the leader" answer named a server that is not followed */
#define MID_PEER_URL_REFUSED "da0f0f96c05d4415b716824a60522d81" /* an etcd member list named a peer URL or name that is refused */
#define MID_IAM_ADMIN_CREATED "03fdeef3120f4853bde2a14dae647bf9" /* IAM admin account created */
#define MID_IAM_ADMIN_EXISTS "03bee7fb1a8f4052b17da27f42a02fcc" /* IAM admin account already existed */
#define MID_IAM_TOKEN_ISSUED "6d191007a5134c5a8fc5d092deea9e9a" /* IAM token issued and stored */
#define MID_REPORT_SENT "c29470c560224e1187f14fd4a7d505f3" /* report delivered to the provisioning server */
#define MID_REPORT_FAILED "47991b05b6144984ba8577ab376f68c4" /* report could not be delivered (warning) */
#define MID_TLS_INSECURE "f182c4ced4d949c0a089a457fff52e81" /* TLS verification is turned off */
#define MID_RUN_DONE "1513c1601d3d43cb964d5e63a1f7ebb0" /* every step is done */
#define MID_RUN_FAILED "2dc1f5bf2274457089c58688995bd8a3" /* the run stopped on a failed step */
#define MID_MEMBER_CHANGED "30d82a8181ba4afe82f40ffd69b36a3e" /* a member was added or removed by hand */
#define MID_MARKER_REMOVED "5d2e6b0c8f3a4e19a7c4b1d09e6f2a83" /* a step marker was removed after first boot was complete */
#define MID_STATE_RESET "27a7fac49b4045ada6d56f1ddf014a32" /* markers removed by reset */
#define MID_FLASH_BEGIN "4c37e35bf79e4183a75e55138b5bc827" /* flashing of an image started */
#define MID_FLASH_PROGRESS "42bcdb2fe57b4f2a96be8446ad6f90a7" /* flashing progress */
#define MID_FLASH_DONE "c26a6d54e2774cd4ba7eb1b2ed7fc937" /* image written and verified */
#define MID_FLASH_FAILED "1687ff20216945a7b281ad3cb3d45d3a" /* flashing failed; target left unbootable */
#define MID_FIRMWARE_CURRENT "b46a4818555140c78d15205ac275f1c2" /* firmware already current; not rewritten */
#define MID_FIRMWARE_WRITTEN "325cad16df9f4bef91070a94e2b2a003" /* firmware written and verified */
#define MID_TARGET_REFUSED "ff5a92fb932146f8b76789779e979752" /* a flash target was refused */
#define MID_POWER_ACTION "964af7c93be14755badb64b1c71f9ca2" /* power-off or reboot requested */
#define MID_IDENTITY_UNKNOWN "b62255dbb2424588b1cd6bddcf3f4cb5" /* the provisioning server does not know this machine (yet) */
#define MID_IDENTITY_FOUND "42c9b145bb4a41e4a2c11a384ce7e985" /* the node's configuration fetched, checked and stored */
#define MID_IDENTITY_REFUSED "c8e496b771014233844b752f3c6b7263" /* the provisioning server's answer was refused */
#define MID_HOSTNAME_SET "db5b643744e34e5190bd0aab20278885" /* host name set from the node's configuration */
#define MID_NETWORK_CONFIGURED "8f636be7c65044bba6ff73de5d560370" /* static address written for networkd and present */
