"""`gateway serve` as a real process on the shipped config: first mail, .eml out, clean SIGTERM."""
from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import REPO, free_port, wait_listening
from tests.integration.serving import make_mail, smtp_send


def descendants(pid: int) -> set[int]:
    """The processes below `pid` (children, theirs, ...), from /proc."""
    children: dict[int, set[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), set()).add(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def test_shipped_config_serves_and_stops_cleanly(tmp_path):
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    port, web_port = free_port(), free_port()
    # No digest: serve sends one at start when started after its time on a working day. Two worker
    # processes prepare mail (the default on this machine's two cores, set here to be sure of it).
    env = {"PATH": "/usr/bin:/bin", "GATEWAY_SMTP__PORT": str(port), "GATEWAY_OUTBOUND__POLL_SECONDS": "0.1",
           "GATEWAY_DIGEST__RECIPIENTS": "[]", "GATEWAY_WEB__PORT": str(web_port),
           "GATEWAY_SPOOL__PREPARE_PROCESSES": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_listening(port, proc, context=lambda: proc.stderr.read().decode()[-3000:] if proc.poll() is not None else "")
        code, text = smtp_send(port, make_mail(subject="Mail server down", body="Nobody can send mail."))
        assert code == 250 and b"OK queued as 1" in text  # spooled; the ticket comes with the acknowledgement
        outgoing = tmp_path / "var" / "outgoing" / "new"
        deadline = time.time() + 10
        while len(list(outgoing.glob("*.eml"))) < 2 and time.time() < deadline:
            time.sleep(0.05)
        files = sorted(outgoing.glob("*.eml"))
        assert len(files) == 2
        assert any(b"[HD-1] Mail server down" in f.read_bytes() for f in files)
        assert (tmp_path / "var" / "gateway.db").exists()
        # The shipped config serves the web face on the same loop: healthy, and it sees the SMTP listener.
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/healthz", timeout=10) as response:
            health = json.load(response)
        assert health["status"] == "ok" and health["smtp_listener"] == "up"
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        assert 'gateway_ingest_seconds_count{transport="smtp"} 1.0' in metrics
        assert 'gateway_mails_in{source="smtp"} 1.0' in metrics
        helpers = descendants(proc.pid)
        assert len(helpers) >= 3  # the fork server and the two preparation workers
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()[-3000:]
    assert b"stopped" in err
    # The workers were stopped with serve and the fork server ended with it: nothing of it is left running.
    deadline = time.time() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in helpers) and time.time() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in helpers if Path(f"/proc/{pid}").exists()]


def test_serve_reports_a_busy_port_in_one_line(tmp_path):
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "gateway.cli", "serve"], cwd=tmp_path, timeout=60,
                                env={"PATH": "/usr/bin:/bin", "GATEWAY_SMTP__PORT": str(port),
                                     "GATEWAY_WEB__PORT": str(free_port())},
                                capture_output=True)
    assert result.returncode != 0
    err = result.stderr.decode()
    assert "Traceback" not in err and f"127.0.0.1:{port}" in err and "smtp.port" in err


def test_serve_reports_a_busy_web_port_in_one_line(tmp_path):
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    smtp_port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "gateway.cli", "serve"], cwd=tmp_path, timeout=60,
                                env={"PATH": "/usr/bin:/bin", "GATEWAY_SMTP__PORT": str(smtp_port),
                                     "GATEWAY_WEB__PORT": str(port)}, capture_output=True)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "Traceback" not in err and f"127.0.0.1:{port}" in err and "web.port" in err
    with socket.create_server(("127.0.0.1", smtp_port)):  # the SMTP port it took was let go again
        pass
