# SPDX-License-Identifier: MIT
"""What the server tests share: failures collected by check(), and a real
`caseagent serve` on a free 127.0.0.1 port (--listen 127.0.0.1:0; the
address is read from its first line of stdout) whose stderr, the access
log, is kept line by line."""
import http.client
import json
import re
import signal
import subprocess
import sys
import threading

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, file=sys.stderr)


def finish(name):
    if FAILS:
        print("%d failures" % len(FAILS), file=sys.stderr)
        sys.exit(1)
    print("ok: " + name)


class Server:
    def __init__(self, binary, db, workers=2):
        self.proc = subprocess.Popen([binary, "--db", db, "serve", "--listen", "127.0.0.1:0", "--workers", str(workers)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not m:
            raise SystemExit("serve did not say where it listens: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(m.group(1))
        self.log = []
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()

    def _read_log(self):
        for line in self.proc.stderr:
            self.log.append(line.rstrip("\n"))

    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        """The response and its raw body."""
        c = self.conn()
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    def call(self, method, path, body=None, token=None, headers=None):
        """A JSON call: the response and its body parsed (raw when not JSON)."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        r, data = self.request(method, path, body, h)
        try:
            return r, json.loads(data) if data else None
        except ValueError:
            return r, data

    def stop(self):
        """SIGTERM; the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        self.reader.join(timeout=5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
