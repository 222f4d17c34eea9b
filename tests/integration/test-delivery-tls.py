#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""HTTPS delivery: TLS verification is on by default (a self-signed
target is refused and the alert kept), ca_file makes it trusted, and
tls_verify = no is the explicit opt-out. Uses the openssl command
(ca-certificates depends on it) and a loopback TLS server in this test."""
import http.server
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from fgtest import TempDir, check, finish, skip, wait_for  # noqa: E402
from delivery import Driver, acked, spool_records  # noqa: E402

received = []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        received.append((self.path, self.headers.get("Idempotency-Key"), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *a):
        pass


def config(tmp, name, url, extra):
    state = os.path.join(tmp.path, "state-" + name)
    text = ("[gateway]\nname = tls\nstate_dir = %s\n[webhook main]\nurl = %s\n%s\n"
            "[button b0]\nserial = BG30-T00000\non = click\n" % (state, url, extra))
    return tmp.file(name + ".ini", text), state


if not shutil.which("openssl"):
    skip("the openssl command is missing (package openssl, pulled in by ca-certificates)")

with TempDir() as tmp:
    key, cert = os.path.join(tmp.path, "key.pem"), os.path.join(tmp.path, "cert.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-keyout", key, "-out", cert, "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       capture_output=True, text=True)
    if not check(r.returncode == 0, "made a self-signed certificate"):
        print(r.stderr[-500:])
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = "https://127.0.0.1:%d/hook" % httpd.server_address[1]
    try:
        # default: verification on, system store: refused, alert kept
        ini, state = config(tmp, "default", url, "")
        ack = os.path.join(tmp.path, "ack-default")
        d = Driver(tmp.path, ini, 1, 0, ack, log=os.path.join(tmp.path, "default.log"))
        check(wait_for(lambda: len(acked(ack)) == 1, 10), "press acknowledged")
        log = os.path.join(tmp.path, "default.log")
        check(wait_for(lambda: "certificate" in open(log).read(), 10),
              "an untrusted certificate fails the attempt (logged)")
        d.kill9()
        d.close()
        check(not received, "nothing was sent to an unverified server")
        check(len(spool_records(state)) == 1, "the alert stays spooled")

        # ca_file: trusted, delivered with its idempotency key
        ini, state = config(tmp, "ca", url, "ca_file = %s" % cert)
        ack = os.path.join(tmp.path, "ack-ca")
        d = Driver(tmp.path, ini, 2, 0, ack, drain=True, log=os.path.join(tmp.path, "ca.log"))
        rc = d.wait(20)
        d.close()
        check(rc == 0, "with ca_file both alerts are delivered (rc %s)" % rc)
        keys = [k for _, k, _ in received]
        check(keys == ["BG30-T00000:1:click", "BG30-T00000:2:double_click"], "in order: %s" % keys)

        # explicit opt-out
        del received[:]
        ini, state = config(tmp, "noverify", url, "tls_verify = no")
        ack = os.path.join(tmp.path, "ack-nv")
        d = Driver(tmp.path, ini, 1, 0, ack, drain=True, log=os.path.join(tmp.path, "nv.log"))
        rc = d.wait(20)
        d.close()
        check(rc == 0 and len(received) == 1, "tls_verify = no delivers to the self-signed server")
    finally:
        httpd.shutdown()
finish()
