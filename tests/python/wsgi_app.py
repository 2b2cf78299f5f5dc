"""The gunicorn test's WSGI app: each request is one predecessor call.

Loaded with --preload, so the first decision below opens the host's engine
in the master, before gunicorn forks its workers."""

import os

from vixbreaker import compat

CONTEXT = {"league": "Premier League", "competition": "Matchday 12"}
# Opened before fork: the workers inherit this engine.
compat.vix_circuit_breaker.get_ttl(60, "normal", CONTEXT)
# test_gunicorn.PRELOAD_DECISIONS counts the decision above.


def app(environ, start_response):
    status = "panic" if environ.get("PATH_INFO") == "/panic" else "normal"
    ttl, mode = compat.vix_circuit_breaker.get_ttl(60, status, CONTEXT)
    body = f"{os.getpid()} {ttl} {mode}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
