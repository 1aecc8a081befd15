#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The web UI's files served by a real `caseagent serve --web DIR` (fixture
# tests/server/lib/server.py) from a scratch directory written here: index.html
# and hashed assets with their cache headers (assets/ immutable for a year,
# index.html no-cache), the strict Content-Security-Policy, Referrer-Policy and
# nosniff on every answer, the UI's own routes answered with index.html,
# content types by extension, HEAD, ETag and 304 on If-None-Match, escapes refused ("..", %2e%2e, %2F,
# symbolic links to a file and to a directory outside, dot-files), a
# directory never listed, unknown /api/v1 paths still 404 problem+json, POST
# to a page 405; $CASEAGENT_WEB as the default; no UI: "/" says how to build
# it and the API still answers; a --web without index.html stops serve at
# start. GET /api/v1/session: a cookie session's CSRF token (and it works on
# a POST), none for a token, the profile's features, never the session secret.
# Arguments: the caseagent binary, the source directory.
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from server import Server, check, main, problem  # noqa: E402

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
IMMUTABLE = "public, max-age=31536000, immutable"
INDEX = b'<!doctype html>\n<html><head><script type="module" src="/assets/app-abc123.js"></script></head></html>\n'
SECRET = b"TOPSECRET outside the web directory\n"
FILES = {  # path -> (bytes, Content-Type)
    "index.html": (INDEX, "text/html; charset=utf-8"),
    "assets/app-abc123.js": (b"console.log('caseagent')\n", "text/javascript; charset=utf-8"),
    "assets/app-abc123.css": (b"body{margin:0}\n", "text/css; charset=utf-8"),
    "assets/logo-abc123.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
    "assets/pixel-abc123.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x00binary\x00bytes", "image/png"),
    "assets/font-abc123.woff2": (b"wOF2\x00\x01\x00\x00", "font/woff2"),
    "assets/app-abc123.js.map": (b'{"version":3}', "application/json"),
    "favicon.ico": (b"\x00\x00\x01\x00", "image/x-icon"),
    "manifest.json": (b'{"name":"caseagent"}', "application/json"),
    "robots.txt": (b"User-agent: *\n", "text/plain; charset=utf-8"),
}


def write_web(root):
    web = os.path.join(root, "web")
    for path, (data, _) in FILES.items():
        os.makedirs(os.path.dirname(os.path.join(web, path)), exist_ok=True)
        with open(os.path.join(web, path), "wb") as f:
            f.write(data)
    outside = os.path.join(root, "outside")
    os.makedirs(outside)
    with open(os.path.join(outside, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(web, "leak.txt"))
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(web, "assets", "leak-abc123.js"))
    os.symlink(outside, os.path.join(web, "escape"))
    os.symlink(outside, os.path.join(web, "assets", "escape"))
    with open(os.path.join(web, ".env"), "wb") as f:
        f.write(SECRET)
    return web


def security_headers(r, what):
    check(r.header("Content-Security-Policy") == CSP, f"{what}: CSP {r.header('Content-Security-Policy')!r}")
    check(r.header("Referrer-Policy") == "no-referrer", f"{what}: Referrer-Policy {r.header('Referrer-Policy')!r}")
    check(r.header("X-Content-Type-Options") == "nosniff", f"{what}: no nosniff")


def page(srv, path, what, method="GET"):
    """A GET of path answering index.html."""
    r = srv.request(method, path)
    check(r.status == 200, f"{what} ({path}): {r!r}")
    check(r.body == (INDEX if method == "GET" else b""), f"{what} ({path}): body {r.body[:200]!r} is not index.html")
    check(r.header("Content-Type") == "text/html; charset=utf-8", f"{what}: Content-Type {r.header('Content-Type')}")
    check(r.header("Cache-Control") == "no-cache", f"{what}: Cache-Control {r.header('Cache-Control')!r}")
    security_headers(r, what)
    return r


def test_files(srv):
    page(srv, "/", "the UI's root")
    for path, (data, ctype) in FILES.items():
        r = srv.request("GET", "/" + path)
        check(r.status == 200 and r.body == data, f"GET /{path}: {r!r}")
        check(r.header("Content-Type") == ctype, f"GET /{path}: Content-Type {r.header('Content-Type')!r}, not {ctype}")
        cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
        check(r.header("Cache-Control") == cache, f"GET /{path}: Cache-Control {r.header('Cache-Control')!r}")
        security_headers(r, f"GET /{path}")
    r = srv.request("HEAD", "/assets/app-abc123.js")
    check(r.status == 200 and r.body == b"", f"HEAD of an asset: {r!r}")
    check(r.header("Content-Length") == str(len(FILES["assets/app-abc123.js"][0])),
          f"HEAD Content-Length {r.header('Content-Length')!r}")
    check(r.header("Cache-Control") == IMMUTABLE, "HEAD of an asset: Cache-Control")
    page(srv, "/", "HEAD /", method="HEAD")
    # Revalidation: the entity tag answers 304 without a body; a new build's file another tag.
    r = srv.request("GET", "/")
    tag = r.header("ETag")
    check(tag and tag.startswith('"'), f"index.html without an ETag: {dict(r.headers)}")
    r = srv.request("GET", "/", headers={"If-None-Match": tag})
    check(r.status == 304 and r.body == b"", f"If-None-Match of the current tag: {r!r}")
    check(r.header("Cache-Control") == "no-cache" and r.header("ETag") == tag, f"304 headers {dict(r.headers)}")
    r = srv.request("GET", "/cases/CAS-00009", headers={"If-None-Match": '"stale"'})
    check(r.status == 200 and r.body == INDEX, f"If-None-Match of another tag: {r!r}")
    with open(os.path.join(srv.web, "index.html"), "ab") as f:
        f.write(b"<!-- a new build -->\n")
    r = srv.request("GET", "/", headers={"If-None-Match": tag})
    check(r.status == 200 and r.header("ETag") != tag and r.body.endswith(b"a new build -->\n"),
          f"a changed index.html with the old tag: {r!r}")
    with open(os.path.join(srv.web, "index.html"), "wb") as f:
        f.write(INDEX)


def test_routes(srv):
    # The UI's own routes, reloaded: index.html, whatever the query.
    for path in ("/cases/CAS-00001", "/cases/CAS-00001?tab=audit&x=%zz", "/admin/case-agent", "/knowledge",
                 "/assets", "/index.html/x"):
        page(srv, path, "a route of the UI")
    # A missing hashed file is 404, not index.html parsed as script.
    problem(srv.request("GET", "/assets/app-old999.js"), 404, "a missing asset")
    # The API's paths stay the API's.
    problem(srv.request("GET", "/api/v1/nonexistent"), 404, "an unknown API path, anonymous")
    problem(srv.request("GET", "/api/v1/nonexistent", user="admin"), 404, "an unknown API path")
    problem(srv.request("GET", "/api"), 404, "/api itself")
    problem(srv.request("GET", "/healthz/more"), 404, "below /healthz")
    problem(srv.request("GET", "/metrics/x"), 404, "below /metrics")
    problem(srv.request("GET", "/api/v1/cases"), 401, "the API still needs credentials")
    check(srv.request("GET", "/api/v1/cases", user="rep").status == 200, "the API answers beside the UI")
    r = srv.request("GET", "/healthz")
    check(r.status == 200 and r.json() == {"status": "ok"}, f"healthz: {r!r}")
    security_headers(r, "a JSON answer")
    r = srv.request("POST", "/cases/CAS-00001", {})
    problem(r, 405, "POST to a page of the UI")
    check(r.header("Allow") == "GET, HEAD", f"Allow {r.header('Allow')!r}")
    # The route table lists the UI once, public, outside the API.
    doc = srv.request("GET", "/openapi.json").json()
    web = [(p, m) for p, item in doc["paths"].items() for m, op in item.items() if op.get("x-caseagent-web")]
    check(web == [("/{path}", "get")], f"openapi.json's web UI operations: {web}")
    check(doc["paths"]["/{path}"]["get"]["security"] == [], "the web UI is public")


def test_escapes(srv):
    for path in ("/../outside/secret.txt", "/%2e%2e/outside/secret.txt", "/assets/%2E%2E/%2e%2e/outside/secret.txt",
                 "/..%2Foutside%2Fsecret.txt", "/assets/..%5C..%5Coutside", "/%00index.html"):
        p = problem(srv.request("GET", path), 400, f"GET {path}")
        check(p.get("field") == "path", f"GET {path}: field {p.get('field')!r}")
    for path in ("/leak.txt", "/assets/leak-abc123.js", "/escape", "/.env", "/assets/.hidden",
                 "/assets/escape/secret.txt"):
        r = srv.request("GET", path)
        check(SECRET not in r.body, f"GET {path} served a file outside the web directory: {r!r}")
        problem(r, 404, f"GET {path}")
    # A link to a directory outside, off assets/: the UI's route, not the file.
    r = srv.request("GET", "/escape/secret.txt")
    check(SECRET not in r.body and r.body == INDEX, f"GET /escape/secret.txt: {r!r}")
    r = srv.request("GET", "/assets")
    check(b"app-abc123" not in r.body.replace(INDEX, b""), f"GET /assets lists the directory: {r!r}")


def test_no_ui(srv, web):
    saved = os.environ.get("CASEAGENT_WEB")
    try:
        # $CASEAGENT_WEB is the default for --web.
        os.environ["CASEAGENT_WEB"] = web
        srv.start()
        page(srv, "/cases/CAS-00002", "the UI from $CASEAGENT_WEB")
        srv.stop_clean()
        # None at all: "/" says how to build it, the API works.
        os.environ["CASEAGENT_WEB"] = ""
        srv.start()
        r = srv.request("GET", "/")
        check(r.status == 200 and r.header("Content-Type") == "text/html; charset=utf-8", f"/ without a UI: {r!r}")
        text = r.text()
        check("make web" in text and "--web" in text and "not built" in text, f"/ without a UI says: {text}")
        check("<script" not in text, "the build-hint page has a script")
        security_headers(r, "the build-hint page")
        r = srv.request("GET", "/cases/CAS-00001")
        check(r.status == 404 and "make web" in r.text(), f"a UI route without a UI: {r!r}")
        check(srv.request("GET", "/healthz").status == 200, "healthz without a UI")
        check(srv.request("GET", "/api/v1/cases", user="rep").status == 200, "the API without a UI")
        problem(srv.request("GET", "/api/v1/nonexistent", user="rep"), 404, "an unknown API path without a UI")
        srv.stop_clean()
    finally:
        if saved is None:
            os.environ.pop("CASEAGENT_WEB", None)
        else:
            os.environ["CASEAGENT_WEB"] = saved
    # A --web that is not a built UI stops serve at start, naming it.
    empty = os.path.join(os.path.dirname(web), "outside")
    p = subprocess.run([srv.bin, "--db", srv.db, "serve", "--listen", "127.0.0.1:0", "--web", empty],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode != 0 and "index.html" in p.stderr, f"serve --web {empty}: {p.returncode} {p.stderr!r}")


def test_session(srv):
    s = srv.login("rep")
    r = srv.request("GET", "/api/v1/session", session=s)
    check(r.status == 200, f"GET /api/v1/session with the cookie: {r!r}")
    who = r.json()
    check(who.get("csrf") == s.csrf, f"the session's csrf {who.get('csrf')!r}, the login's {s.csrf!r}")
    check(who.get("via") == "session" and who.get("user") == "rep", f"who: {who}")
    check(who.get("features") == {"autonomous_case": True, "autonomous_followup": True}, f"features {who}")
    check(s.cookie not in r.text(), "GET /api/v1/session shows the session secret")
    # The token read back works on an unsafe method (a reloaded page's save).
    c = srv.request("POST", "/api/v1/cases", {"fields": {"description": "Kettle lid will not close.",
                                                         "customer": "C-mtorvik"}}, session=s)
    check(c.status == 201, f"a POST with the csrf GET /api/v1/session gave: {c!r}")
    # A token: no csrf; the features follow the user's profile.
    r = srv.request("GET", "/api/v1/session", user="omni")
    check(r.status == 200 and "csrf" not in r.json(), f"GET /api/v1/session with a token: {r!r}")
    profile = {"name": "Shadow", "description": "Suggestions only", "autonomous_case": False,
               "autonomous_followup": True}
    check(srv.request("PUT", "/api/v1/profiles/Shadow", profile, user="admin").status in (200, 201), "PUT profile")
    check(srv.request("PATCH", "/api/v1/users/omni", {"profile": "Shadow"}, user="admin").status == 200, "PATCH user")
    who = srv.request("GET", "/api/v1/session", user="omni").json()
    check(who.get("profile") == "Shadow" and who.get("features") == {"autonomous_case": False,
                                                                       "autonomous_followup": True},
          f"omni with the Shadow profile: {who}")


def static(binary, source):
    with Server(binary, source, name="static") as srv:
        web = srv.web = write_web(srv.dir)
        srv.start("--web", web)
        test_files(srv)
        test_routes(srv)
        test_escapes(srv)
        test_session(srv)
        srv.stop_clean()
        test_no_ui(srv, web)


if __name__ == "__main__":
    main(static, "test_server_static")
