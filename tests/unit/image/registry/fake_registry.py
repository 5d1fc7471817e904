#!/usr/bin/env python3
"""A fake OCI registry on 127.0.0.1 for the registry client's unit tests.

Started by the tests (fake_registry.hpp); prints one JSON line with its
ports, and exits when its stdin closes (the test process ended, even by a
crash). Everything is in memory and deterministic.

Repositories (the same content in each, only auth differs):
  test/<any>     anonymous
  private/<any>  bearer token from /token (basic auth alice:secret, or the
                 refresh token "refresh-me" by POST); anonymous tokens are
                 refused by the registry
  short/<any>    as private, tokens live 1 s
  basic/<any>    basic auth alice:secret
  rt/<any>       the static bearer token "static-registry-token"

Path prefixes emulate mirrors: /m404/v2/... answers 404, /m500/v2/... 500,
/mirror/v2/... serves like /v2/.

Blobs with behaviour: "redirected" (307 to the redirect server), "flaky"
(first GET drops the connection half-way; Range honoured), "norange"
(same, but Range ignored), "slowblob" (half, then stalls), "chunked"
(Transfer-Encoding: chunked), "wrong" (content that does not hash to its
digest). Control: /_content, /_stats, /_reset. Others: /slow, /slowish,
/trickle, /chunked, /echo.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"connections": {}, "token_requests": 0, "log": [], "served": {}}
TOKENS = {}
PORTS = {}

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(obj):
    return json.dumps(obj, indent=2, sort_keys=True).encode()


class Content:
    def __init__(self):
        rnd = random.Random(1234)
        self.blobs = {}  # name -> bytes
        for name, size in [("layer1", 300 << 10), ("layer2", 1 << 20), ("big", 8 << 20),
                           ("flaky", 1 << 20), ("norange", 512 << 10),
                           ("redirected", 512 << 10), ("chunked", 200 << 10),
                           ("slowblob", 256 << 10)]:
            self.blobs[name] = rnd.randbytes(size)
        for i in range(50):
            self.blobs["many%d" % i] = rnd.randbytes(64 << 10)
        self.blobs["empty"] = b""

        def config(arch, variant=None):
            c = {"architecture": arch, "os": "linux",
                 "rootfs": {"type": "layers",
                            "diff_ids": [sha(b"diff1"), sha(b"diff2")]},
                 "config": {"Env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"],
                            "Entrypoint": ["/entry.sh"], "Cmd": ["serve", "--port=80"],
                            "WorkingDir": "/srv", "User": "1000:1000",
                            "StopSignal": "SIGQUIT",
                            "Volumes": {"/data": {}, "/cache": {}},
                            "Labels": {"org.example.arch": arch}},
                 "history": [{"created_by": "test"}]}
            if variant:
                c["variant"] = variant
            return canonical(c)

        self.blobs["config_amd64"] = config("amd64")
        self.blobs["config_arm64"] = config("arm64", "v8")
        self.digests = {name: sha(data) for name, data in self.blobs.items()}
        # "wrong": its digest is that of other bytes.
        self.blobs["wrong"] = b"not what the digest says" * 100
        self.digests["wrong"] = sha(b"what the digest says")
        self.by_digest = {self.digests[n]: n for n in self.blobs}

        def desc(mt, name):
            return {"mediaType": mt, "digest": self.digests[name], "size": len(self.blobs[name])}

        self.manifests = {}  # name -> (media type, bytes)
        for arch in ("amd64", "arm64"):
            self.manifests["oci_" + arch] = (OCI_MANIFEST, canonical({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": desc(OCI_CONFIG, "config_" + arch),
                "layers": [desc(OCI_LAYER, "layer1"), desc(OCI_LAYER, "layer2")]}))
            self.manifests["docker_" + arch] = (DOCKER_MANIFEST, canonical({
                "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                "config": desc(DOCKER_CONFIG, "config_" + arch),
                "layers": [desc(DOCKER_LAYER, "layer1"), desc(DOCKER_LAYER, "layer2")]}))

        def entry(name, arch, variant=None):
            mt, data = self.manifests[name]
            p = {"architecture": arch, "os": "linux"}
            if variant:
                p["variant"] = variant
            return {"mediaType": mt, "digest": sha(data), "size": len(data), "platform": p}

        attestation = {"mediaType": OCI_MANIFEST, "digest": sha(b"attestation"), "size": 10,
                       "platform": {"architecture": "unknown", "os": "unknown"},
                       "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}
        self.manifests["index"] = (OCI_INDEX, canonical({
            "schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [entry("oci_amd64", "amd64"), entry("oci_arm64", "arm64", "v8"),
                          attestation]}))
        self.manifests["list"] = (DOCKER_LIST, canonical({
            "schemaVersion": 2, "mediaType": DOCKER_LIST,
            "manifests": [entry("docker_amd64", "amd64"), entry("docker_arm64", "arm64", "v8")]}))
        self.manifest_digests = {n: sha(d) for n, (_, d) in self.manifests.items()}
        self.tags = {"latest": "index", "list": "list", "v1": "oci_amd64", "schema2": "docker_amd64",
                     "untyped": "oci_amd64", "lying": "oci_amd64"}
        self.manifest_by_digest = {sha(d): n for n, (_, d) in self.manifests.items()}
        # A digest the registry serves other content under.
        self.bad_digest = "sha256:" + "0" * 63 + "1"
        self.manifest_by_digest[self.bad_digest] = "oci_amd64"

    def describe(self):
        return {
            "blobs": {n: {"digest": self.digests[n], "size": len(self.blobs[n])} for n in self.blobs},
            "manifests": {n: {"digest": self.manifest_digests[n], "media_type": mt,
                              "size": len(d)} for n, (mt, d) in self.manifests.items()},
            "bad_digest": self.bad_digest,
        }


CONTENT = Content()
ALICE = "Basic " + base64.b64encode(b"alice:secret").decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-registry/1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        self.counted = False

    # --- helpers ---------------------------------------------------------------

    def name(self):
        return self.server.name

    def note(self, path, query):
        with LOCK:
            if not path.startswith("/_") and not self.counted:
                self.counted = True
                c = STATE["connections"]
                c[self.name()] = c.get(self.name(), 0) + 1
            if not path.startswith("/_"):
                STATE["log"].append({
                    "server": self.name(), "method": self.command, "path": path,
                    "query": query, "authorization": self.headers.get("Authorization"),
                    "range": self.headers.get("Range"), "accept": self.headers.get("Accept")})

    def reply(self, status, body=b"", ctype="application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def registry_error(self, status, code, message, headers=None):
        self.reply(status, json.dumps({"errors": [{"code": code, "message": message}]}).encode(),
                   headers=headers)

    def challenge_bearer(self, repo):
        realm = "http://127.0.0.1:%d/token" % PORTS["http"]
        value = 'Bearer realm="%s",service="fake-registry",scope="repository:%s:pull"' % (realm, repo)
        self.registry_error(401, "UNAUTHORIZED", "authentication required",
                            {"WWW-Authenticate": value})

    def authorized(self, repo):
        auth = self.headers.get("Authorization", "")
        if repo.startswith("private/") or repo.startswith("short/"):
            if auth.startswith("Bearer "):
                tok = TOKENS.get(auth[7:])
                if tok and tok["user"] == "alice" and ("repository:%s:pull" % repo) in tok["scopes"]:
                    return True
            self.challenge_bearer(repo)
            return False
        if repo.startswith("basic/"):
            if auth == ALICE:
                return True
            self.registry_error(401, "UNAUTHORIZED", "authentication required",
                                {"WWW-Authenticate": 'Basic realm="fake-registry"'})
            return False
        if repo.startswith("rt/"):
            if auth == "Bearer static-registry-token":
                return True
            self.challenge_bearer(repo)
            return False
        return True

    # --- verbs -----------------------------------------------------------------

    def do_GET(self):
        self.route()

    def do_HEAD(self):
        self.route()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.body = self.rfile.read(length) if length else b""
        self.route()

    def route(self):
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        query = urllib.parse.parse_qs(parts.query)
        self.note(path, query)

        if path == "/_content":
            return self.reply(200, json.dumps(CONTENT.describe()).encode())
        if path == "/_stats":
            with LOCK:
                return self.reply(200, json.dumps(STATE).encode())
        if path == "/_reset":
            with LOCK:
                STATE["connections"] = {}
                STATE["token_requests"] = 0
                STATE["log"] = []
                STATE["served"] = {}
            return self.reply(200, b"{}")
        if path == "/token":
            return self.token(query)
        if path == "/echo":
            return self.reply(200, json.dumps({
                "method": self.command, "headers": dict(self.headers.items()),
                "body": getattr(self, "body", b"").decode(errors="replace")}).encode())
        if path == "/slow":
            time.sleep(30)
            return self.reply(200, b"late")
        if path == "/slowish":
            time.sleep(0.3)
            return self.reply(200, b"ok", "text/plain")
        if path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(30)
            self.close_connection = True
            return
        if path == "/chunked":
            return self.chunked(CONTENT.blobs["chunked"])
        if path.startswith("/data/"):  # where "redirected" lands
            name = CONTENT.by_digest.get(path[len("/data/"):])
            if name is None:
                return self.registry_error(404, "BLOB_UNKNOWN", "blob unknown")
            return self.blob(name, allow_redirect=False)

        mode = ""
        for prefix in ("/m404", "/m500", "/mirror"):
            if path.startswith(prefix + "/v2/"):
                mode, path = prefix, path[len(prefix):]
        if mode == "/m404":
            return self.registry_error(404, "NAME_UNKNOWN", "repository unknown to this mirror")
        if mode == "/m500":
            return self.registry_error(500, "UNKNOWN", "mirror is broken")
        if path == "/v2/" or path == "/v2":
            return self.reply(200, b"{}")
        m = re.match(r"^/v2/(.+)/(manifests|blobs)/([^/]+)$", path)
        if not m:
            return self.registry_error(404, "NOT_FOUND", "no such route")
        repo, kind, obj = m.groups()
        if not self.authorized(repo):
            return
        if kind == "manifests":
            return self.manifest(obj)
        name = CONTENT.by_digest.get(obj)
        if name is None:
            return self.registry_error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        return self.blob(name, allow_redirect=True)

    def token(self, query):
        user = "anonymous"
        if self.command == "POST":
            form = urllib.parse.parse_qs(self.body.decode())
            if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != ["refresh-me"]:
                return self.reply(401, b'{"error":"invalid_grant"}')
            user = "alice"
            scopes = " ".join(form.get("scope", [""])).split()
            service = form.get("service", [""])[0]
        else:
            auth = self.headers.get("Authorization")
            if auth is not None:
                if auth != ALICE:
                    return self.reply(401, b'{"details":"incorrect username or password"}')
                user = "alice"
            scopes = query.get("scope", [])
            service = query.get("service", [""])[0]
        if service != "fake-registry":
            return self.reply(400, b'{"details":"unknown service"}')
        with LOCK:
            STATE["token_requests"] += 1
            token = "tok-%d-%s" % (STATE["token_requests"], user)
            TOKENS[token] = {"user": user, "scopes": scopes}
        expires = 1 if any("short/" in s for s in scopes) else 300
        field = "access_token" if self.command == "POST" else "token"
        self.reply(200, json.dumps({field: token, "expires_in": expires}).encode())

    def manifest(self, obj):
        if obj.startswith("sha256:"):
            name = CONTENT.manifest_by_digest.get(obj)
            tag = None
        else:
            tag = obj
            name = CONTENT.tags.get(obj)
        if name is None:
            return self.registry_error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        mt, data = CONTENT.manifests[name]
        headers = {"Docker-Content-Digest": sha(data)}
        if tag == "lying":
            headers["Docker-Content-Digest"] = sha(b"something else")
        ctype = "application/json" if tag == "untyped" else mt
        self.reply(200, data, ctype, headers)

    def chunked(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        step = 7777
        for i in range(0, len(data), step):
            piece = data[i:i + step]
            self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def blob(self, name, allow_redirect):
        data = CONTENT.blobs[name]
        if name == "redirected" and allow_redirect:
            location = "http://127.0.0.1:%d/data/%s" % (PORTS["redirect"], CONTENT.digests[name])
            return self.reply(307, b"", "text/plain", {"Location": location})
        if name == "chunked":
            return self.chunked(data)
        rng = self.headers.get("Range")
        with LOCK:
            served = STATE["served"].get(name, 0)
            STATE["served"][name] = served + 1
        if name == "slowblob" or (name in ("flaky", "norange") and served == 0 and rng is None):
            # Promise it all, send half, then stall or drop the connection.
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            if name == "slowblob":
                time.sleep(30)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if rng and name != "norange":
            m = re.match(r"^bytes=(\d+)-$", rng)
            start = int(m.group(1)) if m else 0
            if start >= len(data):
                return self.reply(416, b"", "text/plain",
                                  {"Content-Range": "bytes */%d" % len(data)})
            return self.reply(206, data[start:], "application/octet-stream",
                              {"Content-Range": "bytes %d-%d/%d" % (start, len(data) - 1, len(data)),
                               "Docker-Content-Digest": CONTENT.digests[name]})
        self.reply(200, data, "application/octet-stream",
                   {"Docker-Content-Digest": CONTENT.digests[name], "Accept-Ranges": "bytes"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, name, context=None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.name = name
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)

    def handle_error(self, request, client_address):
        pass  # clients that drop connections or fail TLS are part of the tests


def make_certs(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, cwd=d,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=fake CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for who in ("server", "client"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + who,
            "-keyout", who + ".key", "-out", who + ".csr")
        extra = ["-extfile", "san.ext"] if who == "server" else []
        run("x509", "-req", "-in", who + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", who + ".crt", *extra)


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tls-dir", help="make certificates here and serve HTTPS too")
    args = parser.parse_args()

    main_server = Server("main")
    redirect_server = Server("redirect")
    PORTS["http"] = main_server.server_address[1]
    PORTS["redirect"] = redirect_server.server_address[1]
    info = {"http": PORTS["http"], "redirect": PORTS["redirect"]}
    servers = [main_server, redirect_server]
    if args.tls_dir:
        d = args.tls_dir
        make_certs(d)
        plain = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        plain.load_cert_chain(os.path.join(d, "server.crt"), os.path.join(d, "server.key"))
        mutual = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        mutual.load_cert_chain(os.path.join(d, "server.crt"), os.path.join(d, "server.key"))
        mutual.load_verify_locations(os.path.join(d, "ca.crt"))
        mutual.verify_mode = ssl.CERT_REQUIRED
        tls_server = Server("tls", plain)
        mtls_server = Server("mtls", mutual)
        servers += [tls_server, mtls_server]
        info.update({"tls": tls_server.server_address[1], "mtls": mtls_server.server_address[1],
                     "ca": os.path.join(d, "ca.crt"),
                     "client_cert": os.path.join(d, "client.crt"),
                     "client_key": os.path.join(d, "client.key")})
    for s in servers:
        serve(s)
    print(json.dumps(info), flush=True)
    # Live as long as the test: its end (or crash) closes our stdin.
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
