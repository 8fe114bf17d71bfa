#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_trust.py TESTBED_DIR: what a STAC document may not authorise
(README "Security", the trust model), end to end through floe:

  a) a document fetched over http(s) that names a local repository (file://
     or a plain path) or a file:// container is refused with one line naming
     the document and the href, unless --allow names that folder; the same
     document read from the local disk still works;
  b) a container on a loopback address that the document authorises is
     refused unless --allow names it or it is the endpoint the user named;
  c) credentials from the environment (AWS_ACCESS_KEY_ID, ...) are never
     sent to a custom-s3 endpoint that the document names: its requests go
     unsigned (a recording server on loopback sees no Authorization and no
     X-Amz-Security-Token), while the same endpoint named by the user
     (--s3-endpoint, AWS_ENDPOINT_URL) or given with --allow gets them;
  d) a document fetched over http(s) may not make floe contact a loopback
     (or link-local, private) address through its repository: an http(s)
     repository there, or an s3:// one on a custom-s3 endpoint there, is
     refused before any request to it, unless the user named that endpoint
     (AWS_ENDPOINT_URL) or --allow covers it; the same document read from
     the local disk still works.

The documents are the test bed's collection, rewritten; the data comes
from the loopback S3 stand-in (the endpoint the user names) or the test
bed's files. Prints "N passed, N failed" last.
"""

import copy
import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading

import numpy as np

import reference
from testlib import check, load, run, summary

FLOE = os.environ.get("FLOE_BIN", os.path.join(reference.ROOT, "build", "floe"))
REPO_KEY = "virtual-zarr-store/NLDAS-3-icechunk"
CONTAINER = "s3://nasa-waterinsight/NLDAS3/forcing/daily/"
QUERY = ["-v", "Rainf", "--bbox", "-70.84,41.48,-69.77,42.10", "--time", "2001-01-16"]
FAKE_KEY = "AKIDTRUSTTEST000001"
FAKE_SECRET = "trustTestSecret/Key+0123456789abcdefghij"
FAKE_TOKEN = "trustTestSessionToken"


class Recorder(http.server.BaseHTTPRequestHandler):
    """Serves self.server.files (path -> bytes); anything else is an S3
    AccessDenied. Every request's headers are recorded."""

    def _answer(self, body_too):
        self.server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        data = self.server.files.get(self.path)
        if data is None:
            data = b"<Error><Code>AccessDenied</Code></Error>"
            self.send_response(403)
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body_too:
            self.wfile.write(data)

    def do_GET(self):
        self._answer(True)

    def do_HEAD(self):
        self._answer(False)

    def log_message(self, *args):
        pass


def start_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    srv.files, srv.seen = {}, []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def floe(*args, env=None):
    e = dict(os.environ, AWS_ENDPOINT_URL=os.environ["FLOE_S3_ENDPOINT"])
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
              "AWS_ENDPOINT_URL_S3"):
        e.pop(k, None)
    e.update(env or {})
    return subprocess.run([FLOE, *args], capture_output=True, text=True, env=e, timeout=600)


def refused(what, r, out, needles):
    """Non-zero exit, one line on stderr naming every needle, no output."""
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    check(r.returncode != 0, f"{what}: refused (exit {r.returncode})")
    check(len(lines) == 1, f"{what}: one-line error, got {len(lines)}: {r.stderr!r}")
    check(all(n in r.stderr for n in needles), f"{what}: the error names {needles}: {r.stderr!r}")
    check(not os.path.exists(out), f"{what}: no output")
    for leftover in (out, out[:-3] + ".json"):  # so that the next run starts clean
        if os.path.exists(leftover):
            os.unlink(leftover)


def same_values(what, r, out, baseline):
    check(r.returncode == 0, f"{what}: exit {r.returncode}: {r.stderr.strip()}")
    if r.returncode == 0:
        got = load(out)
        check(np.array_equal(got["Rainf"], baseline["Rainf"]), f"{what}: the baseline's values")
        os.unlink(out)
        item = out[:-3] + ".json"
        if os.path.exists(item):
            os.unlink(item)


def repo_asset(doc):
    return next(a for a in doc["assets"].values() if "latest-version" in a.get("roles", []))


def legacy_asset(doc):
    return doc["assets"][repo_asset(doc)["vrt:hrefs"][0]["key"]]


def check_remote_document(tmp, tbdir, doc, srv, baseline):
    """a) A remote document may not point at local files."""
    repo_dir = os.path.join(tbdir, "s3", "nasa-waterinsight", REPO_KEY)
    base = f"http://127.0.0.1:{srv.server_port}"
    out = os.path.join(tmp, "remote.nc")
    for label, href in (("file:// repository", f"file://{repo_dir}/"),
                        ("plain-path repository", f"{repo_dir}/")):
        d = copy.deepcopy(doc)
        a = repo_asset(d)
        a["href"] = href
        a.pop("storage:refs", None)
        srv.files["/remote/collection.json"] = json.dumps(d).encode()
        url = f"{base}/remote/collection.json"
        r = floe("extract", url, *QUERY, "-o", out)
        refused(f"remote document, {label}", r, out, [url, repo_dir, "--allow"])
        r = floe("extract", url, *QUERY, "-o", out, "--allow", f"file://{repo_dir}/")
        same_values(f"remote document, {label}, --allow of the folder", r, out, baseline)
        # The same document on the local disk: as before, no --allow needed.
        local = os.path.join(tmp, "local-collection.json")
        with open(local, "w") as f:
            json.dump(d, f)
        r = floe("extract", local, *QUERY, "-o", out)
        same_values(f"local document, {label}", r, out, baseline)
    # A file:// virtual chunk container in a remote document.
    d = copy.deepcopy(doc)
    leg = legacy_asset(d)
    leg["href"] = "file:///etc/"
    leg.pop("storage:refs", None)
    srv.files["/remote/file-container.json"] = json.dumps(d).encode()
    url = f"{base}/remote/file-container.json"
    r = floe("extract", url, *QUERY, "-o", out)
    refused("remote document, file:// container", r, out, [url, "file:///etc/", "--allow"])


def check_loopback_container(tmp, doc, baseline):
    """b) A loopback container the document authorises needs --allow,
    unless it is the endpoint the user named."""
    endpoint = os.environ["FLOE_S3_ENDPOINT"].rstrip("/")
    port = endpoint.rsplit(":", 1)[1]
    out = os.path.join(tmp, "loopback.nc")
    for host, trusted in ((f"localhost:{port}", False), (f"127.0.0.1:{port}", True)):
        mirror = f"http://{host}/nasa-waterinsight/NLDAS3/forcing/daily/"
        d = copy.deepcopy(doc)
        leg = legacy_asset(d)
        leg["href"] = mirror
        leg.pop("storage:refs", None)
        path = os.path.join(tmp, "loopback-collection.json")
        with open(path, "w") as f:
            json.dump(d, f)
        remap = ["--remap", f"{CONTAINER}={mirror}"]
        r = floe("extract", path, *QUERY, *remap, "-o", out)
        if trusted:
            same_values(f"container {mirror}: the endpoint the user named", r, out, baseline)
            continue
        refused(f"container {mirror} from the document", r, out, [mirror, "loopback", "--allow"])
        r = floe("extract", path, *QUERY, *remap, "--allow", mirror, "-o", out)
        same_values(f"container {mirror} with --allow", r, out, baseline)


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def check_remote_repository(tmp, doc, srv, baseline):
    """d) A remote document may not reach loopback addresses through its
    repository, unless the user named the endpoint or --allow covers it."""
    endpoint = os.environ["FLOE_S3_ENDPOINT"].rstrip("/")
    port = endpoint.rsplit(":", 1)[1]
    base = f"http://127.0.0.1:{srv.server_port}"
    out = os.path.join(tmp, "remote-repo.nc")

    def serve(name, d):
        srv.files[f"/remote/{name}"] = json.dumps(d).encode()
        return f"{base}/remote/{name}"

    # An http(s) repository on loopback.
    for host, trusted in ((f"localhost:{port}", False), (f"127.0.0.1:{port}", True),
                          (f"127.0.0.1:{closed_port()}", False)):
        href = f"http://{host}/nasa-waterinsight/{REPO_KEY}/"
        d = copy.deepcopy(doc)
        a = repo_asset(d)
        a["href"] = href
        a.pop("storage:refs", None)
        url = serve("loopback-repo.json", d)
        r = floe("extract", url, *QUERY, "-o", out)
        if trusted:
            same_values(f"remote document, repository {href}: the endpoint the user named",
                        r, out, baseline)
            continue
        refused(f"remote document, repository {href}", r, out,
                [url, href, "loopback", "--allow"])
        if host.startswith("localhost"):
            r = floe("extract", url, *QUERY, "-o", out, "--allow", f"http://{host}/")
            same_values(f"remote document, repository {href}, --allow", r, out, baseline)
            local = os.path.join(tmp, "loopback-repo-collection.json")
            with open(local, "w") as f:
                json.dump(d, f)
            r = floe("extract", local, *QUERY, "-o", out)
            same_values(f"local document, repository {href}", r, out, baseline)
    # The origin the user named the document at is the user's: floe asks it.
    href = f"{base}/own-origin/repo/"
    d = copy.deepcopy(doc)
    a = repo_asset(d)
    a["href"] = href
    a.pop("storage:refs", None)
    url = serve("own-origin.json", d)
    srv.seen.clear()
    r = floe("inspect", url)
    check("loopback" not in r.stderr and any(p.startswith("/own-origin/repo/")
                                             for p, _ in srv.seen),
          f"remote document, repository on the document's own origin: asked: {r.stderr!r}")
    # An s3:// repository on a document's custom-s3 endpoint on loopback.
    mirror = f"http://localhost:{port}"
    d = copy.deepcopy(doc)
    d["storage:schemes"]["mirror"] = {"type": "custom-s3", "platform": mirror,
                                      "bucket": "nasa-waterinsight", "region": "us-west-2",
                                      "anonymous": True}
    repo_asset(d)["storage:refs"] = ["mirror"]
    legacy_asset(d)["storage:refs"] = ["mirror"]
    url = serve("loopback-endpoint.json", d)
    r = floe("extract", url, *QUERY, "-o", out)
    refused("remote document, s3:// repository on a loopback custom-s3 endpoint", r, out,
            [url, mirror, "loopback", "--allow"])
    r = floe("extract", url, *QUERY, "-o", out, "--allow", mirror + "/")
    same_values("remote document, loopback custom-s3 endpoint, --allow of it", r, out,
                baseline)


def check_credentials(tmp, doc, srv):
    """c) Credentials go only to AWS or to the endpoint the user named."""
    rec = f"http://127.0.0.1:{srv.server_port}"
    d = copy.deepcopy(doc)
    d["storage:schemes"]["evil"] = {"type": "custom-s3", "platform": rec,
                                    "bucket": "nasa-waterinsight", "region": "us-west-2"}
    repo_asset(d)["storage:refs"] = ["evil"]
    path = os.path.join(tmp, "custom-s3-collection.json")
    with open(path, "w") as f:
        json.dump(d, f)
    creds = {"AWS_ACCESS_KEY_ID": FAKE_KEY, "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
             "AWS_SESSION_TOKEN": FAKE_TOKEN}

    def requests(args, env):
        srv.seen.clear()
        r = floe("inspect", path, *args, env=env)
        return r, [h for p, h in srv.seen if "virtual-zarr-store" in p]

    r, seen = requests([], creds)
    check(seen, f"document-named endpoint: floe asked it (exit {r.returncode}: {r.stderr!r})")
    check(not any("authorization" in h or "x-amz-security-token" in h for h in seen),
          f"document-named endpoint: no Authorization, no X-Amz-Security-Token: {seen}")
    check(not any(FAKE_KEY in json.dumps(h) or FAKE_TOKEN in json.dumps(h) for h in seen),
          "document-named endpoint: neither the key id nor the token on the wire")
    check(r.returncode != 0 and "credentials" in r.stderr and "--s3-endpoint" in r.stderr,
          f"document-named endpoint: the denial says why the request was unsigned: {r.stderr!r}")
    for label, args, env in (("--s3-endpoint", ["--s3-endpoint", rec], creds),
                             ("AWS_ENDPOINT_URL", [], dict(creds, AWS_ENDPOINT_URL=rec)),
                             ("--allow of the endpoint", ["--allow", rec + "/"], creds)):
        r, seen = requests(args, env)
        check(seen and all(FAKE_KEY in h.get("authorization", "") for h in seen)
              and all(h.get("x-amz-security-token") == FAKE_TOKEN for h in seen),
              f"endpoint the user named ({label}): signed, with the token: {seen} {r.stderr!r}")


def main(tbdir):
    tmp = tempfile.mkdtemp(prefix="floe-trust-")
    with open(os.path.join(tbdir, "collection.json")) as f:
        doc = json.load(f)
    base_out = os.path.join(tmp, "baseline.nc")
    r = floe("extract", os.path.join(tbdir, "collection.json"), *QUERY, "-o", base_out)
    check(r.returncode == 0, f"baseline extract: {r.stderr.strip()}")
    if r.returncode != 0:
        return summary()
    baseline = load(base_out)
    srv = start_server()
    try:
        check_remote_document(tmp, tbdir, doc, srv, baseline)
        check_loopback_container(tmp, doc, baseline)
        check_credentials(tmp, doc, srv)
        check_remote_repository(tmp, doc, srv, baseline)
    finally:
        srv.shutdown()
    shutil.rmtree(tmp)
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
