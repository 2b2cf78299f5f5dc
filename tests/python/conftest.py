"""Shared fixtures of the Python tests (run by tools/test.sh as
`/usr/bin/python3 -m pytest tests/python` with VIX_BUILD_DIR set).

Real parts only: the module from the build tree, real segments (one per
test, removed afterwards), real processes, a real redis-server on a free
loopback port. A missing piece fails the test; nothing is skipped.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

BUILD_DIR = os.environ.get("VIX_BUILD_DIR")
if not BUILD_DIR:
    raise RuntimeError("VIX_BUILD_DIR is not set: run the Python tests "
                       "through tools/test.sh, or set it to a build "
                       "directory (e.g. build/release)")
BUILD_DIR = os.path.abspath(BUILD_DIR)
PYTHON_DIR = os.path.join(BUILD_DIR, "python")
VIXCTL = os.path.join(BUILD_DIR, "tools", "vixctl", "vixctl")
if not os.path.isfile(os.path.join(PYTHON_DIR, "vixbreaker", "__init__.py")):
    raise RuntimeError(f"no vixbreaker package in {PYTHON_DIR}: build the "
                       "vix_python target first")
if not os.access(VIXCTL, os.X_OK):
    raise RuntimeError(f"no vixctl at {VIXCTL}: build the vixctl target")
sys.path.insert(0, PYTHON_DIR)
# Child interpreters (spawn, gunicorn) import the same build.
os.environ["PYTHONPATH"] = PYTHON_DIR + (
    os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH")
    else "")

import vixbreaker  # noqa: E402

assert vixbreaker.__file__.startswith(PYTHON_DIR), vixbreaker.__file__

# Bounded waits: generous for a loaded 2-core machine, finite always.
WAIT_S = 30.0


def wait_until(predicate, what, timeout=WAIT_S, interval=0.01):
    """Polls `predicate` until true; fails naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def vixctl(*args, segment=None, check=True, env=None):
    """Runs vixctl; returns the CompletedProcess (text)."""
    full_env = dict(os.environ if env is None else env)
    if segment is not None:
        full_env["VIX_SEGMENT"] = segment
    result = subprocess.run([VIXCTL, *args], capture_output=True, text=True,
                            env=full_env, timeout=WAIT_S)
    if check and result.returncode != 0:
        pytest.fail(f"vixctl {' '.join(args)} exited {result.returncode}: "
                    f"{result.stderr}")
    return result


def vixctl_json(*args, segment=None):
    return json.loads(vixctl(*args, "--json", segment=segment).stdout)


def total_decisions(status):
    return sum(status["totals"]["all"]["decisions"].values())


def destroy_segment(name):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(f"/dev/shm/{name}")


@pytest.fixture
def segment(monkeypatch):
    """A fresh segment name, set as VIX_SEGMENT; removed afterwards. The
    compat layer is unbound so it opens this segment on first use."""
    name = f"vixpy-{os.getpid()}-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("VIX_SEGMENT", name)
    monkeypatch.delenv("VIX_CONFIG", raising=False)
    from vixbreaker import compat
    compat.vix_circuit_breaker.reset()
    yield name
    compat.vix_circuit_breaker.reset()
    compat._hosts.pop(name, None)
    destroy_segment(name)


@pytest.fixture
def engine(segment):
    eng = vixbreaker.Engine(segment, log_fd=-1)
    yield eng


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A real redis-server on a free loopback port, no persistence."""

    def __init__(self, password=None):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (tools/setup.sh test)")
        self.dir = tempfile.mkdtemp(prefix="vixpy-redis-")
        self.port = free_port()
        self.password = password
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir]
        if password:
            args += ["--requirepass", password]
        self.log = open(os.path.join(self.dir, "redis.log"), "w")
        self.process = subprocess.Popen(args, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        import redis
        self.client = redis.Redis(host="127.0.0.1", port=self.port,
                                  password=password, socket_timeout=1)

        def ready():
            try:
                return self.client.ping()
            except redis.exceptions.ConnectionError:
                if self.process.poll() is not None:
                    pytest.fail("redis-server exited at start")
                return False
        wait_until(ready, "redis-server to answer PING")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=WAIT_S)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def redis_server():
    server = RedisServer(password="s3cr3t-pw")
    yield server
    server.stop()
