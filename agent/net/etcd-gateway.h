/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "http.h"

/* etcd's v3 JSON gateway (grpc-gateway in front of etcd's gRPC services): every call is a POST
 * of a JSON object to {base}/v3/…; 64-bit integers travel as decimal strings, keys and values
 * as base64; errors come as {"error","message","code"} with the gRPC code. */

/* One call. timeout_ms 0: the client's default. Returns what http_perform() returns. */
int etcd_gateway_post(HttpClient *c, const char *base_url, const char *path, const char *body, long timeout_ms,
                      HttpResponse *resp);

/* True when the error message of the answer contains text (case-insensitive). */
bool etcd_gateway_mentions(const HttpResponse *resp, const char *text);
