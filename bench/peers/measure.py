"""The peers fed the bench corpus, timed: Roundup's mail gateway and django-helpdesk's get_email.

    python bench/peers/measure.py [--mails 200] [--pipe-mails 10]

Each figure is a whole process as its operator runs it, start-up included, on a throwaway
instance with the sqlite backend, in mails/s:
- Roundup `roundup-mailgw TRACKER mailbox MBOX` (its mbox mode; 2.x names it "mailbox") on a
  tracker from `roundup-admin install classic sqlite`, with anonymous mail access on (as a help
  desk taking mail from anyone sets it) and its outgoing mail written to a file;
- Roundup's pipe mode, `roundup-mailgw TRACKER < mail`, one process per mail, one at a time;
- django-helpdesk's `get_email` over a queue whose mailbox is a local directory of one file per
  mail (its local mode), in the Django project of helpdesk_site/, its mail written to files.
Each checks that the peer stored every mail, so a misconfigured peer cannot look fast.
The venvs come from build.py; a function returns None for a peer whose venv is not built.
"""
from __future__ import annotations

import argparse
import mailbox
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from bench.peers import build  # noqa: E402


def _bin(peer: str, command: str) -> Path | None:
    return build.venv_dir(peer) / "bin" / command if build.built(peer) else None


def _run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{Path(str(command[0])).name} {command[1]} exited {result.returncode}: "
                           f"{(result.stderr or result.stdout).strip()[-500:]}")
    return result


def roundup_tracker(home: Path) -> Path:
    """A fresh classic tracker on sqlite that takes mail from unknown senders and sends none."""
    admin, tracker = _bin("roundup", "roundup-admin"), home / "tracker"
    _run([admin, "-i", tracker, "install", "classic", "sqlite",
          f"tracker_web=http://localhost:8080/tracker/,mail_domain=example.com,mail_host=localhost,"
          f"mail_debug={home / 'sent.txt'}"])
    _run([admin, "-i", tracker, "initialise", "bench-admin-password"])
    schema = tracker / "schema.py"
    # The classic schema ships this line commented out: without it mail from a new address is refused.
    line = "db.security.addPermissionToRole('Anonymous', 'Email Access')"
    text = schema.read_text()
    if f"#{line}" not in text:
        raise RuntimeError(f"{schema}: the line to enable anonymous mail access has changed; update measure.py")
    schema.write_text(text.replace(f"#{line}", line))
    return tracker


def roundup_count(tracker: Path, kind: str) -> int:
    out = _run([_bin("roundup", "roundup-admin"), "-i", tracker, "list", kind]).stdout
    return len([line for line in out.splitlines() if line.strip()])


def roundup_mailbox(box: Path) -> float | None:
    """mails/s of `roundup-mailgw TRACKER mailbox BOX` over a copy of `box` (it empties what it reads)."""
    if _bin("roundup", "roundup-mailgw") is None:
        return None
    mails = len(mailbox.mbox(box))
    with tempfile.TemporaryDirectory(prefix="peer-roundup-") as workdir:
        home = Path(workdir)
        tracker = roundup_tracker(home)
        feed = home / "feed.mbox"
        shutil.copyfile(box, feed)
        started = time.perf_counter()
        _run([_bin("roundup", "roundup-mailgw"), tracker, "mailbox", feed], timeout=3600)
        seconds = time.perf_counter() - started
        stored = roundup_count(tracker, "msg")
        if stored != mails:
            raise RuntimeError(f"Roundup stored {stored} of {mails} mails: see its log in {tracker}")
    return mails / seconds


def roundup_pipe(mails: list[bytes]) -> float | None:
    """mails/s of Roundup's pipe mode: one `roundup-mailgw TRACKER` process per mail on stdin, one at a time."""
    mailgw = _bin("roundup", "roundup-mailgw")
    if mailgw is None:
        return None
    with tempfile.TemporaryDirectory(prefix="peer-roundup-pipe-") as workdir:
        tracker = roundup_tracker(Path(workdir))
        started = time.perf_counter()
        for raw in mails:
            result = subprocess.run([str(mailgw), str(tracker)], input=raw, capture_output=True)
            if result.returncode != 0:
                raise RuntimeError(f"roundup-mailgw exited {result.returncode}: {result.stderr.decode()[-500:]}")
        seconds = time.perf_counter() - started
        stored = roundup_count(tracker, "msg")
        if stored != len(mails):
            raise RuntimeError(f"Roundup's pipe stored {stored} of {len(mails)} mails")
    return len(mails) / seconds


QUEUE = """
from helpdesk.models import Queue
Queue.objects.create(title="Help", slug="help", email_address="ihelp@example.com", allow_email_submission=True,
                     email_box_type="local", email_box_local_dir={maildir!r}, email_box_interval=0,
                     logging_type="none")
"""
COUNT = """
from helpdesk.models import FollowUp
print("followups", FollowUp.objects.count())
"""


def helpdesk_get_email(box: Path) -> float | None:
    """mails/s of django-helpdesk's `get_email` over a local directory holding `box`'s mails, one file each."""
    django_admin = _bin("django-helpdesk", "django-admin")
    if django_admin is None:
        return None
    with tempfile.TemporaryDirectory(prefix="peer-helpdesk-") as workdir:
        home = Path(workdir)
        maildir = home / "incoming"
        maildir.mkdir()
        env = {**os.environ, "HELPDESK_BENCH_HOME": str(home), "DJANGO_SETTINGS_MODULE": "settings",
               "PYTHONPATH": str(HERE / "helpdesk_site")}
        _run([django_admin, "migrate", "-v0"], env=env)
        _run([django_admin, "loaddata", "emailtemplate.json"], env=env)  # its install docs: else it sends no mail
        _run([django_admin, "shell", "-c", QUEUE.format(maildir=str(maildir))], env=env)
        mails = 0
        for n, message in enumerate(mailbox.mbox(box)):
            (maildir / f"{n:07d}.eml").write_bytes(message.as_bytes(unixfrom=False))
            mails += 1
        started = time.perf_counter()
        _run([django_admin, "get_email", "--quiet"], env=env, timeout=3600)
        seconds = time.perf_counter() - started
        # Every mail is a follow-up (the first of a new ticket too); it deletes each file it stored.
        out = _run([django_admin, "shell", "-c", COUNT], env=env).stdout
        stored = int(out.split("followups")[-1].split()[0])
        left = len(list(maildir.iterdir()))
        if stored != mails or left:
            raise RuntimeError(f"django-helpdesk stored {stored} of {mails} mails ({left} left in its directory)")
    return mails / seconds


def main() -> None:
    from bench.import_history import archive
    from bench.pipe import mail

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=200, help="mails in the mbox (bench/import_history.archive)")
    parser.add_argument("--pipe-mails", type=int, default=10, help="mails for the pipe mode (bench/pipe.mail)")
    args = parser.parse_args()
    for peer in build.PEERS:
        if not build.built(peer):
            print(f"{peer}: no venv; run bench/peers/build.py first")
    with tempfile.TemporaryDirectory(prefix="peer-corpus-") as workdir:
        box = Path(workdir) / "corpus.mbox"
        archive(box, args.mails)
        for what, fn in ((f"Roundup mailbox (mbox), {args.mails} mails", roundup_mailbox),
                         (f"django-helpdesk get_email, local directory, {args.mails} mails", helpdesk_get_email)):
            rate = fn(box)
            print(f"{what:<58} " + (f"{rate:8.1f} mails/s" if rate is not None else "not built"), flush=True)
    rate = roundup_pipe([mail(n) for n in range(args.pipe_mails)])
    what = f"Roundup pipe, one process per mail, {args.pipe_mails} mails"
    print(f"{what:<58} " + (f"{rate:8.1f} mails/s" if rate is not None else "not built"))


if __name__ == "__main__":
    main()
