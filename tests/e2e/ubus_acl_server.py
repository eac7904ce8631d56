#!/usr/bin/env python3
"""A small stand-in for OpenWrt's ubusd *access control* (Debian has no ubusd):
it loads ACL files from a directory by the rules of ubusd_acl.c and enforces
them on every request, identifying the caller by SO_PEERCRED as ubusd does.
The wire protocol is not ubus's blob protocol: one line "call OBJECT METHOD"
per request, answered "ok OBJECT METHOD" or "denied OBJECT METHOD".

Rules followed (ubusd_acl.c):
  * files: DIR/*.json, regular (stat), owned by uid 0 and gid 0, not writable
    by group or others nor executable by others; otherwise skipped;
  * a file names a "user" (wins over "group") or a "group"; a file with
    neither is ignored;
  * "access": OBJECT -> { "methods": [...] } (an entry needs methods, tags or
    acl); OBJECT ending in '*' is a prefix; a method "*" matches any method;
  * a client is named by getpwuid()/getgrgid() of its SO_PEERCRED uid and gid
    (the first line with that id); one whose uid or gid has no account is
    refused at connect; uid 0 is never checked; a grant matches by NAME: the
    file's user is the client's user name, or its group the client's group
    name (so whoever /etc/passwd names "dnsmasq" gets dnsmasq's grants).
Usage: ubus_acl_server.py SOCKET ACL_DIR PASSWD GROUP LOG
"""
import glob, json, os, socket, stat, struct, sys, threading


def names_by_id(path):
    """id -> the name getpwuid()/getgrgid() return: the first line with it."""
    out = {}
    for line in open(path):
        f = line.rstrip("\n").split(":")
        if len(f) > 2 and f[2].isdigit():
            out.setdefault(int(f[2]), f[0])
    return out


def load_acls(acl_dir, log):
    acls = []  # (key, partial, user, group, methods)
    for path in sorted(glob.glob(os.path.join(acl_dir, "*.json"))):
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            continue
        if st.st_uid or st.st_gid:
            log(f"{path} has wrong owner")
            continue
        if st.st_mode & (stat.S_IWOTH | stat.S_IWGRP | stat.S_IXOTH):
            log(f"{path} has wrong permissions")
            continue
        try:
            doc = json.load(open(path))
        except ValueError:
            log(f"failed to parse {path}")
            continue
        user = group = None
        if isinstance(doc.get("user"), str):
            user = doc["user"]
        elif isinstance(doc.get("group"), str):
            group = doc["group"]
        else:
            continue
        access = doc.get("access")
        if isinstance(access, dict):
            for obj, spec in access.items():
                if not isinstance(spec, dict) or not obj:
                    continue
                methods = spec.get("methods")
                if not any(isinstance(spec.get(k), t) for k, t in (("methods", list), ("tags", list), ("acl", dict))):
                    continue
                partial = obj.endswith("*")
                acls.append((obj[:-1] if partial else obj, partial, user, group,
                             methods if isinstance(methods, list) else []))
        log(f"loading {path}")
    return acls


def allowed(acls, client, obj, method):
    uid, user, group = client
    if uid == 0:
        return True
    for key, partial, a_user, a_group, methods in acls:
        if not (obj == key or (partial and obj.startswith(key))):
            continue
        if not ((a_user is not None and a_user == user) or (a_group is not None and a_group == group)):
            continue
        if any(isinstance(m, str) and (m == method or m == "*") for m in methods):
            return True
    return False


def main():
    sock_path, acl_dir, passwd, group, log_path = sys.argv[1:6]
    users, groups = names_by_id(passwd), names_by_id(group)
    logf = open(log_path, "a", buffering=1)
    lock = threading.Lock()

    def log(msg):
        with lock:
            logf.write(msg + "\n")

    acls = load_acls(acl_dir, log)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    os.chmod(sock_path, 0o666)  # as ubusd's: anyone connects, the ACL decides
    srv.listen(16)
    log("ready")

    def serve(conn):
        with conn:
            pid, uid, gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
            if uid not in users or gid not in groups:
                log(f"peer uid={uid} gid={gid}: no account, refused")
                return
            client = (uid, users[uid], groups[gid])
            f = conn.makefile("rwb", buffering=0)
            for raw in f:
                parts = raw.decode(errors="replace").split()
                if len(parts) != 3 or parts[0] != "call":
                    f.write(b"error bad request\n")
                    continue
                obj, method = parts[1], parts[2]
                verdict = "ok" if allowed(acls, client, obj, method) else "denied"
                log(f"peer uid={uid} gid={gid}: {obj} {method}: {verdict}")
                f.write(f"{verdict} {obj} {method}\n".encode())

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
