"""`keel serve` for real: the server scripts/start runs, started as it starts it, on PostgreSQL.

The server runs in its own process on a free port, against the test database (committed
data: a transactional test). It collects the static files, serves them compressed under
hashed names, runs with debug off, and keeps its database connections bounded under a burst
of 200 parallel API requests.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from keel.api.tokens import create_token
from keel.core.tests.factories import CompanyFactory, member

pytestmark = pytest.mark.postgres

# What one server may hold: workers x threads (5 x 4 on two CPUs), plus a little slack.
MAX_SERVER_CONNECTIONS = 24


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    from urllib.parse import quote

    s = connection.settings_dict
    credentials = quote(s["USER"] or "postgres") + (f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else "")
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _get(url: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


def _server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def server(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("serving tests run on PostgreSQL")
    port = _free_port()
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("KEEL_", "DJANGO_", "PYTEST_"))
    }
    env.update({
        "KEEL_DATABASE_URL": _database_url(),
        "KEEL_VAR_DIR": str(tmp_path / "var"),
        "KEEL_ACCESS_LOG": "0",
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
    })
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115 - closed at teardown
    # As scripts/start: `keel serve --host ... --port ...` (migrate and demo are the database's
    # set-up, done here by the test database and the test's own records).
    process = subprocess.Popen(
        [sys.executable, "-m", "keel.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"keel serve exited with {process.returncode}:\n{log.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("keel serve did not listen within 180 s")
            time.sleep(0.5)
    yield base, tmp_path
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()


def test_the_server_serves_keel_with_debug_off_and_hashed_compressed_static_files(server):
    base, tmp_path = server
    status, headers, body = _get(f"{base}/login/")
    assert status == 200
    assert "Python" not in headers.get("Server", "") and "WSGIServer" not in headers.get("Server", "")
    assert "Content-Security-Policy" in headers and headers["X-Frame-Options"] == "DENY"
    html = body.decode()
    assert '<label for="id_username">Email:</label>' in html
    stylesheet = re.search(r'href="(/static/web/keel\.[0-9a-f]{12}\.css)"', html)
    assert stylesheet, "the stylesheet is linked under its hashed name"
    status, headers, body = _get(base + stylesheet.group(1), {"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert b".topbar" in gzip.decompress(body)
    # Debug off: an unknown page is Keel's own 404, not Django's technical page.
    status, headers, body = _get(f"{base}/no-such-page/")
    assert status == 404
    assert b"There is no such page" in body and b"Back to the dashboard" in body
    assert b"Django tried these URL patterns" not in body
    # A secret key was generated for this installation, readable by its owner only.
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_200_parallel_api_requests_succeed_with_bounded_connections(server):
    base, _tmp_path = server
    company = CompanyFactory(code="burst", legal_name="Burst Ltd")
    user = member(company, "owner", username="owner@burst.test")
    _token, key = create_token(user=user, name="burst")
    headers = {"Authorization": f"Bearer {key}", "X-Keel-Company": "burst"}
    before = _server_connections()

    def call(_):
        return _get(f"{base}/api/companies", headers)[0]

    peak = 0
    with ThreadPoolExecutor(max_workers=200) as pool:
        futures = [pool.submit(call, n) for n in range(200)]
        while not all(f.done() for f in futures):
            peak = max(peak, _server_connections())
            time.sleep(0.2)
        statuses = [f.result() for f in futures]
    assert statuses == [200] * 200
    after = _server_connections()
    assert peak <= MAX_SERVER_CONNECTIONS, f"{peak} connections during the burst"
    assert after <= MAX_SERVER_CONNECTIONS, f"{after} connections left after the burst (before: {before})"
    # A second burst reuses the same connections instead of opening new ones.
    with ThreadPoolExecutor(max_workers=200) as pool:
        assert list(pool.map(call, range(200))) == [200] * 200
    assert _server_connections() <= MAX_SERVER_CONNECTIONS


def test_the_api_answers_an_unknown_path_in_json_with_the_request_id(server):
    base, _tmp_path = server
    status, headers, body = _get(f"{base}/api/nowhere")
    assert status == 404
    assert '"request_id": "' + headers["X-Request-ID"] + '"' in body.decode()
