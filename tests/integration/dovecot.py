"""A throwaway, rootless Dovecot IMAP server on free loopback ports, for integration tests and bench/."""
from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from imapclient import IMAPClient

# Dovecot 2.3 (Debian 12) and 2.4 (Debian 13) reject each other's setting names, so the config is
# chosen by `dovecot --version`. Only the 2.3 form is exercised on this project's machines; the 2.4
# form follows Dovecot's upgrade notes (dovecot_config_version first, named passdb/userdb blocks).
CONFIG_23 = """\
base_dir = {d}/run
state_dir = {d}/state
instance_name = gwtest{port}
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {user}
default_login_user = {user}
default_internal_group = {group}
first_valid_uid = 1
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
}}
"""

CONFIG_24 = """\
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
base_dir = {d}/run
state_dir = {d}/state
instance_name = gwtest{port}
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {user}
default_login_user = {user}
default_internal_group = {group}
first_valid_uid = 1
ssl = yes
ssl_server_cert_file = {d}/cert.pem
ssl_server_key_file = {d}/key.pem
auth_allow_cleartext = yes
auth_mechanisms = plain login
auth_failure_delay = 0
mail_driver = maildir
mail_path = ~/Maildir
mail_fsync = never
passdb passwd-file {{
  passwd_file_path = {d}/users
  default_password_scheme = PLAIN
}}
userdb passwd-file {{
  passwd_file_path = {d}/users
}}
"""

SERVICES = """\
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No per-IP login penalty (2-15 s after a failure): every test logs in from 127.0.0.1.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dovecot_version() -> tuple[int, int] | None:
    """(major, minor) of the installed dovecot, or None when it is not installed."""
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    if binary is None:
        return None
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    match = re.match(r"(\d+)\.(\d+)", out.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


class Dovecot:
    """One Dovecot master in a short temp dir (unix sockets need paths < 108 bytes), as nobody when root."""

    def __init__(self, pool: int = 100) -> None:
        version = dovecot_version()
        if version is None:
            raise RuntimeError("dovecot is not installed; apt-get install dovecot-imapd")
        self.version = version
        self.dir = Path(tempfile.mkdtemp(prefix="dv", dir="/tmp"))
        self.port, self.ssl_port = free_port(), free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen | None = None
        self.users = {f"user{n:03d}": uuid.uuid4().hex for n in range(pool)}
        self._pool = list(self.users)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("nobody")
            self.run_as = ("nobody", "nogroup", entry.pw_uid, entry.pw_gid)
        else:
            entry = pwd.getpwuid(os.geteuid())
            import grp

            self.run_as = (entry.pw_name, grp.getgrgid(os.getegid()).gr_name, os.geteuid(), os.getegid())
        for sub in ("run", "state", "mail"):
            (self.dir / sub).mkdir()
        self._make_cert()
        self._write_users()
        template = CONFIG_24 if version >= (2, 4) else CONFIG_23
        values = dict(d=self.dir, user=self.run_as[0], group=self.run_as[1], port=self.port, ssl_port=self.ssl_port)
        (self.dir / "dovecot.conf").write_text(template.format(**values) + SERVICES.format(**values))
        self._chown(self.dir)

    @property
    def cert(self) -> Path:
        """The self-signed certificate (CN=localhost, SAN localhost and 127.0.0.1): use it as ca_file."""
        return self.dir / "cert.pem"

    def _make_cert(self) -> None:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-keyout", str(self.dir / "key.pem"), "-out", str(self.cert), "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)

    def _chown(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        uid, gid = self.run_as[2], self.run_as[3]
        os.chown(path, uid, gid)
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                os.chown(os.path.join(root, name), uid, gid)

    def _write_users(self) -> None:
        # passwd-file: user:password:uid:gid:gecos:home:shell:extra (uid/gid empty in rootless mode).
        lines = [f"{name}:{{PLAIN}}{password}::::{self.dir}/mail/{name}::\n" for name, password in self.users.items()]
        path = self.dir / "users"
        tmp = self.dir / "users.tmp"
        tmp.write_text("".join(lines))
        tmp.chmod(0o644)
        os.replace(tmp, path)  # Dovecot re-reads the file when it changes: no restart needed

    def add_user(self, name: str, password: str) -> None:
        """Add an account. Dovecot notices a changed passwd-file only by its mtime (whole seconds), so a
        user added while it runs may be refused for a second: prefer take_user() from the pool."""
        self.users[name] = password
        self._write_users()

    def take_user(self) -> tuple[str, str]:
        """A fresh account from the pool created before start(): (name, password)."""
        if not self._pool:
            raise RuntimeError("the pool of test accounts is used up; create Dovecot(pool=N) with a larger N")
        name = self._pool.pop(0)
        return name, self.users[name]

    # -- process control --------------------------------------------------------------------------
    def start(self, timeout: float = 15.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        kwargs = {}
        if os.geteuid() == 0:
            kwargs = dict(user=self.run_as[2], group=self.run_as[3], extra_groups=[])
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", str(self.dir / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True, **kwargs)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited at start: {self.proc.stderr.read().decode()[-2000:]} "
                                   f"{self.log()[-2000:]}")
            if self._accepts(self.port) and self._accepts(self.ssl_port):
                return
            time.sleep(0.02)
        raise RuntimeError(f"dovecot did not listen on {self.port} within {timeout}s: {self.log()[-2000:]}")

    def stop(self) -> None:
        """SIGTERM to the master (~1.1 s), then the rest of its process group: clients see EOF, ports are freed."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
        # Rootless, an imap process can outlive its master and keep serving its client: finish the
        # whole process group, so a stopped server is really gone (as after a machine restart).
        self.kill()

    def kill(self) -> None:
        """Kill the whole process group at once (no clean shutdown)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(15)
        self._reap()

    def _reap(self) -> None:
        # Children can outlive a killed master for a moment; wait until the ports are free again.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (self._accepts(self.port) or self._accepts(self.ssl_port)):
            time.sleep(0.02)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _accepts(self, port: int) -> bool:
        try:
            socket.create_connection((self.host, port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def log(self) -> str:
        try:
            return (self.dir / "dovecot.log").read_text(errors="replace")
        except OSError:
            return ""

    # -- mail helpers (a second client, as a sender or a human would be) ---------------------------
    def client(self, user: str) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.login(user, self.users[user])
        return client

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def append(self, user: str, *mails: bytes, folder: str = "INBOX") -> None:
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in mails:
                client.append(folder, raw)
        finally:
            client.logout()

    def uids(self, user: str, folder: str = "INBOX") -> list[int]:
        """UIDs in `folder` that are not flagged \\Deleted ([] when the folder does not exist)."""
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            return sorted(client.search(["UNDELETED"]))
        finally:
            client.logout()

    def messages(self, user: str, folder: str = "INBOX") -> list[tuple[bytes, tuple]]:
        """(raw, flags) of each mail in `folder`, read without setting \\Seen."""
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            data = client.fetch(uids, ["BODY.PEEK[]", "FLAGS"]) if uids else {}
            return [(data[uid][b"BODY[]"], data[uid][b"FLAGS"]) for uid in sorted(data)]
        finally:
            client.logout()
