"""A real prefork server (SPEC 13): Debian's gunicorn, --preload, 4
workers, a WSGI app calling compat.vix_circuit_breaker.get_ttl, driven by
a few thousand real HTTP requests. One episode for the host, one first
writer, and `vixctl status` shows the workers and totals equal to the
requests."""

import http.client
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import WAIT_S, free_port, total_decisions, vixctl_json, wait_until

WORKERS = 4
REQUESTS = 3000
# wsgi_app's decision at import, in the master before fork. Not imported
# from there: importing it here would make that calm decision in this
# process and end the workers' episode.
PRELOAD_DECISIONS = 1


def gunicorn_command():
    if os.access("/usr/bin/gunicorn", os.X_OK):
        return ["/usr/bin/gunicorn"]
    if shutil.which("gunicorn") is None:
        pytest.fail("gunicorn is not installed (tools/setup.sh test)")
    return [sys.executable, "-m", "gunicorn"]


def get(port, path, connection=None):
    conn = connection or http.client.HTTPConnection("127.0.0.1", port,
                                                    timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read().decode()
    assert response.status == 200, body
    return conn, body.split()


def drive(port, path, count):
    """`count` requests on one keep-alive-less connection each batch."""
    replies = []
    for _ in range(count):
        conn, reply = get(port, path)
        conn.close()
        replies.append(reply)
    return replies


def read_log(path):
    """The log's text, read through a new open: a seek on the descriptor
    gunicorn writes through would move the writers' shared offset, and
    their next write would overwrite the start of the file."""
    with open(path) as f:
        return f.read()


@pytest.fixture
def gunicorn(segment, tmp_path):
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    # Append mode: every write of every worker lands at the end.
    log = open(log_path, "a")
    here = os.path.dirname(os.path.abspath(__file__))
    process = subprocess.Popen(
        gunicorn_command() + [
            "--preload", "--workers", str(WORKERS), "--bind",
            f"127.0.0.1:{port}", "--chdir", here, "--worker-class", "sync",
            "--graceful-timeout", "5", "wsgi_app:app"],
        stdout=log, stderr=subprocess.STDOUT)

    def serving():
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited {process.returncode}: "
                        f"{read_log(log_path)}")
        try:
            get(port, "/")[0].close()
            return True
        except OSError:
            return False
    wait_until(serving, "gunicorn to serve")
    yield port, process, log_path
    process.terminate()
    process.wait(timeout=WAIT_S)
    log.close()


def test_gunicorn_preload_workers_share_one_episode(segment, gunicorn):
    port, process, log_path = gunicorn
    warmup = 1  # the readiness probe above
    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(lambda _: drive(port, "/panic",
                                                REQUESTS // 8), range(8)))
    replies = [r for batch in batches for r in batch]
    assert len(replies) == REQUESTS
    assert {(ttl, mode) for _, ttl, mode in replies} == {("0", "PANIC_FULL")}
    served_by = {pid for pid, _, _ in replies}
    assert len(served_by) > 1, "one worker served everything"

    status = vixctl_json("status", segment=segment)
    scope = status["scopes"][0]
    assert scope["name"] == "global"
    assert scope["episodes_started"] == 1, scope
    assert scope["active"]
    # One first writer: a worker, not the master (which only saw calm).
    assert str(scope["first_writer_pid"]) in served_by, scope
    worker_pids = {str(p["pid"]) for p in status["processes"]}
    assert served_by <= worker_pids, (served_by, worker_pids)
    assert total_decisions(status) == PRELOAD_DECISIONS + warmup + REQUESTS
    # Workers write their log lines from a background thread: wait for
    # the first writer's, then there must be exactly one.

    def initialized_lines():
        return [line for line in read_log(log_path).splitlines()
                if '"PANIC_TIMESTAMP_INITIALIZED"' in line]
    wait_until(initialized_lines, "the first writer's log line")
    lines = initialized_lines()
    assert len(lines) == 1, lines
    assert f'"pid":{scope["first_writer_pid"]}' in lines[0], lines
