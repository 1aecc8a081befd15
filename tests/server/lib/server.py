# SPDX-License-Identifier: MIT
# The fixture the server integration tests (tests/server/test_*.py) share: a
# scratch folder with a real SQLite file, prepared with the real CLI (init,
# the seed settings, contacts and products, one user per role and their API
# tokens), a real `caseagent serve` on a free port of 127.0.0.1, and a small
# HTTP client (http.client, one connection per request) that authenticates
# with a token or a cookie session. Python 3 standard library only.
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SKIP = 77  # CTest's SKIP_RETURN_CODE for these tests

# The users the fixture creates, by role; "chat" (the live-chat platform) and
# "mta" (the mail server) are integration users: token only, no password.
USERS = {
    "admin": "System Administrator",
    "manager": "CSR Manager",
    "rep": "Customer Service Representative",
    "omni": "Omnichannel Agent",
    "chat": "Integration",
    "mta": "Integration",
}
PASSWORD = "correct horse battery staple 10"

# The rights each role grants, as the contract states them (the test
# checks the server against this, not against the server's own table).
ROLE_RIGHTS = {
    "System Administrator": {"configure", "work", "reports", "metrics"},
    "CSR Manager": {"configure", "work", "reports"},
    "Customer Service Representative": {"work"},
    "Omnichannel Agent": {"work"},
    "Integration": {"chat_ingest", "mail_ingest", "metrics"},
}


class Failure(Exception):
    """A check that did not hold; the message says what and where."""


def check(cond, what):
    if not cond:
        raise Failure(what)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reply:
    """One HTTP response: status, headers (case-insensitive), body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise Failure(f"response {self.status} is not JSON ({e}): {self.body[:300]!r}")

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return f"<{self.status} {self.header('Content-Type')} {self.body[:400]!r}>"


class Session:
    """A browser-style login: the session cookie and the CSRF token."""

    def __init__(self, cookie, csrf, body):
        self.cookie = cookie
        self.csrf = csrf
        self.body = body


UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class Server:
    """A scratch database and a `caseagent serve` on it (see the file comment)."""

    def __init__(self, binary, source, settings=None, contacts=None, products=None, users=USERS, name="server"):
        self.bin = os.path.abspath(binary)
        self.src = os.path.abspath(source)
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"ca-{name}-")
        self.db = os.path.join(self.dir, "serve.db")
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.dir, "serve.log")
        self.log = None
        self.runs = 0
        self.owns_dir = True
        try:
            self._prepare(settings, contacts, products, users)
        except BaseException:
            self.close()
            raise

    def _prepare(self, settings, contacts, products, users):
        data = os.path.join(self.src, "tests", "server", "data")
        self.cli("init")
        self.cli("settings", "import", settings or os.path.join(data, "seed_settings.json"))
        self.cli("import", "contacts", contacts or os.path.join(data, "contacts.jsonl"))
        self.cli("import", "products", products or os.path.join(data, "products.jsonl"))
        pw = os.path.join(self.dir, "password")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        self.tokens = {}
        self.roles = {}
        for user, role in users.items():
            args = ["user", "add", user, "--role", role]
            if role != "Integration":
                args += ["--password-file", pw]
            self.cli(*args)
            token = self.cli("token", "create", user, "--name", "tests").stdout.strip()
            check(token and len(token.split()) == 1, f"token create {user} printed {token!r}, not one token")
            self.tokens[user] = token
            self.roles[user] = role

    def second(self):
        """Another Server on the same database and users, for a second serve
        process (start it); closing it leaves the scratch folder alone."""
        twin = object.__new__(Server)
        twin.__dict__.update(self.__dict__)
        twin.proc, twin.port, twin.log, twin.runs, twin.owns_dir = None, None, None, 0, False
        twin.log_path = os.path.join(self.dir, f"serve-{id(twin)}.log")
        return twin

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- the CLI on the same database ----
    def cli(self, *args, check_rc=True, stdin=None):
        p = subprocess.run([self.bin, "--db", self.db, *args], input=stdin, capture_output=True, text=True,
                           timeout=120)
        if check_rc and p.returncode != 0:
            raise Failure(f"caseagent {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
        return p

    # ---- serve ----
    def start(self, *extra, workers=None):
        check(self.proc is None, "serve is already running")
        self.port = free_port()
        self.runs += 1
        self.log = open(self.log_path, "ab")
        self.log.write(f"---- serve run {self.runs} ----\n".encode())
        self.log.flush()
        args = [self.bin, "serve", "--listen", f"127.0.0.1:{self.port}", "--db", self.db]
        if workers:
            args += ["--workers", str(workers)]
        self.proc = subprocess.Popen(args + list(extra), stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"serve exited {self.proc.returncode} before it was ready:\n{self.log_tail()}")
            try:
                r = self.request("GET", "/readyz", timeout=2)
                if r.status == 200:
                    return self
                last = r
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise Failure(f"serve not ready after 30 s (last: {last!r}):\n{self.log_tail()}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal serve (sig None: it was signalled already) and wait;
        returns its exit status."""
        if self.proc is None:
            return None
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            raise Failure(f"serve did not exit within {timeout} s of signal {sig}:\n{self.log_tail()}")
        self.proc = None
        self.log.close()
        return rc

    def stop_clean(self):
        rc = self.stop()
        check(rc == 0, f"serve exited {rc} on SIGTERM, expected 0:\n{self.log_tail()}")

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self.log.close()

    def sockets(self):
        """How many sockets serve has open (its accepted connections among them)."""
        n = 0
        for fd in os.listdir(f"/proc/{self.proc.pid}/fd"):
            try:
                n += os.readlink(f"/proc/{self.proc.pid}/fd/{fd}").startswith("socket:")
            except OSError:
                pass  # closed meanwhile
        return n

    def settled_sockets(self, timeout=5):
        """serve's open sockets once the count holds still for a quarter of a
        second: a connection of an earlier request that serve is still
        closing is then gone, so a later count of new connections is not
        one short (it was, once in a while, on a loaded machine)."""
        deadline = time.monotonic() + timeout
        last, same = self.sockets(), 0
        while same < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
            n = self.sockets()
            same = same + 1 if n == last else 0
            last = n
        return last

    def wait_sockets(self, n, timeout=20):
        """Waits until serve has n sockets open (it has accepted the connections)."""
        deadline = time.monotonic() + timeout
        while self.sockets() < n and time.monotonic() < deadline:
            time.sleep(0.05)
        check(self.sockets() >= n, f"serve has {self.sockets()} sockets open after {timeout} s, expected {n}")

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        if self.owns_dir:
            subprocess.run(["rm", "-rf", self.dir], check=False)

    # ---- HTTP ----
    def request(self, method, path, body=None, headers=None, token=None, user=None, session=None, csrf=True,
                content_type=None, timeout=30):
        """One request on a new connection. body: dict/list (sent as JSON),
        str or bytes (sent as is); user: a fixture user (its token); session:
        a Session (cookie, and X-CSRF-Token on unsafe methods unless csrf is
        False). Returns a Reply."""
        h = {}
        if user is not None:
            token = self.tokens[user]
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if session is not None:
            h["Cookie"] = f"caseagent_session={session.cookie}"
            if csrf and method in UNSAFE:
                h["X-CSRF-Token"] = session.csrf
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
                h["Content-Type"] = content_type or "application/json"
            else:
                data = body.encode() if isinstance(body, str) else body
                h["Content-Type"] = content_type or "application/json"
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            return Reply(resp.status, resp.headers, resp.read())
        finally:
            conn.close()

    def login(self, user, password=PASSWORD):
        r = self.request("POST", "/api/v1/session", {"user": user, "password": password})
        check(r.status in (200, 201), f"login {user}: {r!r}")
        cookie = None
        for k, v in r.headers.items():
            if k.lower() == "set-cookie" and v.startswith("caseagent_session="):
                cookie = v.split(";", 1)[0].split("=", 1)[1]
                attrs = v.lower()
                check("httponly" in attrs, f"session cookie without HttpOnly: {v}")
                check("samesite=strict" in attrs, f"session cookie without SameSite=Strict: {v}")
        check(cookie, f"login {user}: no caseagent_session cookie in {dict(r.headers)}")
        b = r.json()
        check(b.get("csrf"), f"login {user}: no csrf in {b}")
        return Session(cookie, b["csrf"], b)

    # ---- chat ----
    def post_event(self, conv, event, user="chat", timeout=30):
        return self.request("POST", f"/api/v1/conversations/{conv}/events", dict(event, conversation=conv),
                            user=user, timeout=timeout)

    def chat(self, conv, events, user="chat"):
        """Posts events in order, each must succeed; returns the results."""
        out = []
        for e in events:
            r = self.post_event(conv, e, user=user)
            check(200 <= r.status < 300, f"event {e['id']} of {conv}: {r!r}")
            out.append(r.json())
        return out


def chat_events(conv, lines, accept_after=None, actor="rep", close=True, wrapup=True):
    """The events of a short chat: open, one message event per (role, text)
    line, accept after line `accept_after` (default: after the last), an
    update after the remaining lines, wrapup and close. Event ids
    CONV-eN, message ids CONV-mN."""
    ev = [{"id": f"{conv}-e1", "type": "open"}]
    if accept_after is None:
        accept_after = len(lines)

    def add(e):
        e["id"] = f"{conv}-e{len(ev) + 1}"
        ev.append(e)

    for i, (role, text) in enumerate(lines, 1):
        add({"type": "message", "message": {"id": f"{conv}-m{i}", "role": role, "text": text}})
        if i == accept_after:
            add({"type": "accept", "actor": actor})
    if accept_after < len(lines):
        add({"type": "update", "actor": actor})
    if wrapup:
        add({"type": "wrapup", "actor": actor})
    if close:
        add({"type": "close", "actor": actor})
    return ev


def defect_chats(srv, n, prefix):
    """n product-defect chats left open (accepted after the customer named
    her e-mail and serial number), as the HTTP benches seed them: the case
    ticket of each that got one, and the number of events posted."""
    people = [("marit.torvik@example.com", "Aurel Smart Kettle"), ("lena.brennan@example.org", "Quill 10 Tablet"),
              ("jide.okafor@example.net", "Ember Fan Heater")]
    refs, events = [], 0
    for i in range(n):
        email, product = people[i % len(people)]
        lines = [("customer", f"Hi, my {product} is broken, it stopped working."),
                 ("agent", "Sorry to hear that. Could I have the e-mail on your order?"),
                 ("customer", f"{email}, serial number SN-{100000 + i}."),
                 ("agent", "Thank you, let me check the warranty."),
                 ("customer", "It is urgent, I need it for work.")]
        evs = chat_events(f"{prefix}-{i}", lines, accept_after=3, wrapup=False, close=False)
        events += len(evs)
        ref = next((r["case"] for r in srv.chat(f"{prefix}-{i}", evs) if r.get("case")), None)
        if ref:
            refs.append(ref)
    return refs, events


def problem(r, status, what):
    """r is an RFC 9457 problem+json reply with `status` (an int, or a
    collection of allowed ints); returns the problem object."""
    allowed = (status,) if isinstance(status, int) else tuple(status)
    shown = "4xx" if allowed == tuple(range(400, 500)) else allowed
    check(r.status in allowed, f"{what}: status {r.status}, expected {shown}: {r!r}")
    ct = (r.header("Content-Type") or "").split(";")[0].strip().lower()
    check(ct == "application/problem+json", f"{what}: Content-Type {ct!r}, expected application/problem+json")
    p = r.json()
    for k in ("type", "title", "status"):
        check(k in p, f"{what}: problem without {k!r}: {p}")
    check(p["status"] == r.status, f"{what}: problem status {p['status']} but HTTP {r.status}")
    return p


def all_pages(srv, path, key, user="rep", limit=200):
    """Every item of a paginated list route (limit, cursor / next_cursor)."""
    items, cursor = [], None
    sep = "&" if "?" in path else "?"
    for _ in range(10000):
        q = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        r = srv.request("GET", q, user=user)
        check(r.status == 200, f"GET {q}: {r!r}")
        b = r.json()
        items += b[key]
        cursor = b.get("next_cursor")
        if not cursor:
            return items
    raise Failure(f"{path}: pagination does not end")


def has_serve(binary):
    p = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=30)
    return not (p.returncode != 0 and "unknown command" in p.stderr)


def main(test, name):
    """Runs test(binary, source) from argv; exit 0 pass, 1 fail, 77 skip
    (only when the binary has no `serve` command)."""
    if len(sys.argv) != 3:
        print(f"usage: {name}.py CASEAGENT_BINARY SOURCE_DIR", file=sys.stderr)
        sys.exit(2)
    binary, source = sys.argv[1], sys.argv[2]
    if not has_serve(binary):
        print(f"SKIP ({name}): {binary} has no `serve` command")
        sys.exit(SKIP)
    try:
        test(binary, source)
    except Failure as e:
        print(f"FAIL ({name}): {e}", file=sys.stderr)
        sys.exit(1)
    except Exception:  # noqa: BLE001 - any other error fails the test with its trace
        print(f"FAIL ({name}): unexpected error", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
    print(f"PASS ({name})")


def in_threads(n, fn):
    """Runs fn(i) for i in range(n) in n threads started together; returns
    the results in order; an exception in a thread fails the test."""
    results = [None] * n
    errors = []
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported below with the thread's number
            errors.append((i, e, traceback.format_exc()))

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        i, e, tb = errors[0]
        if isinstance(e, Failure):
            raise Failure(f"thread {i}: {e}")
        raise Failure(f"thread {i}: {tb}")
    return results


class EventStream:
    """A Server-Sent Events client on GET /api/v1/events: connects (headers
    read, so the stream is open), then a thread parses events ({"id",
    "event", "data"}, data parsed as JSON when it is) into a list."""

    def __init__(self, srv, user, last_event_id=None):
        h = {"Authorization": f"Bearer {srv.tokens[user]}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            h["Last-Event-ID"] = str(last_event_id)
        self.conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
        self.conn.request("GET", "/api/v1/events", headers=h)
        self.resp = self.conn.getresponse()
        ct = (self.resp.headers.get("Content-Type") or "").split(";")[0].strip()
        if self.resp.status != 200 or ct != "text/event-stream":
            body = self.resp.read(2000)
            self.conn.close()
            raise Failure(f"GET /api/v1/events as {user}: {self.resp.status} {ct}: {body!r}")
        self.events = []
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        cur = {}
        data = []
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode("utf-8", "replace").rstrip("\r\n")
                if line == "":
                    if data or cur:
                        text = "\n".join(data)
                        try:
                            cur["data"] = json.loads(text)
                        except ValueError:
                            cur["data"] = text
                        with self.cond:
                            self.events.append(cur)
                            self.cond.notify_all()
                    cur, data = {}, []
                elif line.startswith(":"):
                    continue
                else:
                    k, _, v = line.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    if k == "data":
                        data.append(v)
                    elif k in ("id", "event", "retry"):
                        cur[k] = v
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # the stream ended or close() cut it (http.client then drops its file: AttributeError)
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_for(self, pred, timeout=15):
        """The first event pred(event) holds for, waiting up to timeout s; None if none came."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if pred(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self.cond.wait(left)

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self.conn.close()
        self.thread.join(5)
