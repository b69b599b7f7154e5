"""A mistake in the configuration or a taken port is one clear line and exit code 2,
found before any work is done; never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def _socialdesk(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialdesk.cli", *args],
        env={**os.environ, "COLUMNS": "200", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SOCIALDESK_DATABASE_URL": "foo://x"}, "unsupported database 'foo'"),
        ({"SOCIALDESK_DATABASE_URL": "mysql://root@localhost/desk"}, "unsupported database"),
        ({"SOCIALDESK_DATABASE_URL": "::::"}, "not a database URL"),
        ({"SOCIALDESK_PORT": "abc"}, "SOCIALDESK_PORT='abc'"),
        ({"SOCIALDESK_THREAD_WINDOW_HOURS": "soon"}, "SOCIALDESK_THREAD_WINDOW_HOURS"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_code_2(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    done = _socialdesk("migrate", env=env, cwd=tmp_path)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 2, output
    assert says in output
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1, output


def test_a_taken_port_is_found_before_the_demo_loads_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        database = tmp_path / "demo.db"
        done = _socialdesk(
            "demo",
            "--port",
            str(port),
            env={"SOCIALDESK_DATABASE_URL": f"sqlite:///{database}"},
            cwd=tmp_path,
        )
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 2, output
    assert f"cannot listen on 127.0.0.1:{port}" in output
    assert f"--port {port + 1}" in output and "make demo PORT=" in output
    assert "Traceback" not in output
    assert not database.exists()  # nothing was migrated or loaded


def test_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    done = _socialdesk("serve", "--port", "70000", env={}, cwd=tmp_path)
    assert done.returncode == 2
    assert "--port" in done.stdout + done.stderr
