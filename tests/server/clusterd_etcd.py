# SPDX-License-Identifier: MIT
"""clusterd's etcd listeners: the cluster part of etcd's v3 JSON gateway (member list, add,
promote, remove), with the answers etcd 3.4 gives, over one shared member list. Unlike a real
etcd it takes any member list through the control API, peer URLs a real etcd would refuse
among them: it plays a hostile or broken server on demand."""

import random

from clusterd_core import STATE, HttpError


def _member_out(m):
    """A member as the gateway prints it: the ID as a decimal string, proto3 leaving out empties."""
    out = {"ID": str(m["ID"]), "peerURLs": list(m["peerURLs"])}
    if m.get("name"):
        out["name"] = m["name"]
    if m.get("clientURLs"):
        out["clientURLs"] = list(m["clientURLs"])
    if m.get("isLearner"):
        out["isLearner"] = True
    return out


def _grpc_error(status, code, message):
    return HttpError(status, message, {"code": code, "message": message})


def new_member(name, peer_urls, client_urls=(), learner=False, mid=None):
    return {"ID": int(mid) if mid is not None else random.getrandbits(63) | 1, "name": name or "",
            "peerURLs": list(peer_urls), "clientURLs": list(client_urls), "isLearner": bool(learner)}


def _find(mid):
    for m in STATE.etcd_members:
        if m["ID"] == mid:
            return m
    raise _grpc_error(404, 5, "etcdserver: member not found")


def _id_of(body):
    v = body.get("ID")
    try:
        return int(v)
    except (TypeError, ValueError):
        raise _grpc_error(400, 3, "'ID' must be a member ID (a decimal string or number)")


def route(handler, lst, method, path, raw):
    if method != "POST" or not path.startswith("/v3/cluster/member/"):
        raise HttpError(404, "no such endpoint %s %s" % (method, path))
    body = handler.json_body(raw or b"{}") if (raw or b"").strip() else {}
    op = path[len("/v3/cluster/member/"):]
    with STATE.lock:
        ms = STATE.etcd_members
        if op == "list":
            handler.send_json(200, {"header": {}, "members": [_member_out(m) for m in ms]})
            return
        if op == "add":
            urls = body.get("peerURLs")
            if not isinstance(urls, list) or not urls or not all(isinstance(u, str) and u for u in urls):
                raise _grpc_error(400, 3, "etcdserver: 'peerURLs' must be a non-empty list of URLs")
            if any(u in m["peerURLs"] for m in ms for u in urls):
                raise _grpc_error(400, 9, "etcdserver: Peer URLs already exists")
            learner = bool(body.get("isLearner"))
            if learner and sum(1 for m in ms if m["isLearner"]) >= 1:
                raise _grpc_error(400, 9, "etcdserver: too many learner members in cluster")
            m = new_member("", urls, learner=learner)
            ms.append(m)
            handler.send_json(200, {"header": {}, "member": _member_out(m), "members": [_member_out(x) for x in ms]})
            return
        if op == "promote":
            m = _find(_id_of(body))
            if not m["isLearner"]:
                raise _grpc_error(400, 9, "etcdserver: can only promote a learner member")
            if not m["name"]:
                raise _grpc_error(400, 9, "etcdserver: can only promote a learner member which is in sync with leader")
            m["isLearner"] = False
            handler.send_json(200, {"header": {}, "members": [_member_out(x) for x in ms]})
            return
        if op == "remove":
            m = _find(_id_of(body))
            ms.remove(m)
            handler.send_json(200, {"header": {}, "members": [_member_out(x) for x in ms]})
            return
    raise HttpError(404, "no such endpoint %s %s" % (method, path))


def set_members(body):
    """POST /control/etcd-members {"members":[{"name","peerURLs"[,"clientURLs","isLearner","ID"]}]}:
    replaces the member list, taken as given (strings are not checked: a hostile list on demand)."""
    ms = body.get("members")
    if not isinstance(ms, list):
        raise HttpError(400, "'members' must be a list of {\"name\",\"peerURLs\"}")
    new = []
    for m in ms:
        if not isinstance(m, dict) or not isinstance(m.get("peerURLs"), list):
            raise HttpError(400, "each member must be an object with a 'peerURLs' list")
        new.append(new_member(m.get("name", ""), m["peerURLs"], m.get("clientURLs", ()), m.get("isLearner"),
                              m.get("ID")))
    with STATE.lock:
        STATE.etcd_members[:] = new
    return {"members": [_member_out(m) for m in new]}


def started(body):
    """POST /control/etcd-started {"peer_url","name"[,"client_url"]}: the member with that peer URL
    runs now (a real etcd names its member when it starts)."""
    url, name = body.get("peer_url"), body.get("name")
    if not isinstance(url, str) or not isinstance(name, str) or not name:
        raise HttpError(400, "'peer_url' and 'name' must be strings")
    with STATE.lock:
        for m in STATE.etcd_members:
            if url in m["peerURLs"]:
                m["name"] = name
                m["clientURLs"] = [body.get("client_url") or url]
                return {"member": _member_out(m)}
    raise HttpError(404, "no member with peer URL %s" % url)


def members_out():
    with STATE.lock:
        return [_member_out(m) for m in STATE.etcd_members]
