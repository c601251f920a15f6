"""Preparation in worker processes: the same Jobs as in this process, a killed worker replaced, poison held, clean stop."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.pipeline.prepare import prepare
from gateway.pipeline.runner import Incoming, Job, PipelineRunner
from gateway.prepare_pool import PreparePool, pool_size, prepare_here
from gateway.store.blobs import sha256_hex
from tests.conftest import DATA


@pytest.mark.parametrize("cores, workers", [(1, 0), (2, 1), (8, 7)])
def test_one_worker_per_core_but_the_one_serve_keeps_busy(monkeypatch, cores, workers):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert pool_size(None) == workers
    assert pool_size(3) == 3 and pool_size(0) == 0  # configured: as configured


@pytest.fixture
def settings(settings_factory):
    return settings_factory()


@pytest.fixture
async def pool(settings):
    workers = PreparePool(settings=settings, processes=2)
    yield workers
    workers.close()


def incoming(raw: bytes, source: str = "test") -> tuple[Incoming, str]:
    return Incoming(raw, source, "customer@example.org", ("ihelp@example.com",)), sha256_hex(raw)


async def in_thread(item: Incoming, digest: str):
    raise AssertionError("prepared in this process, not in a worker")


def plain(n: int) -> tuple[Incoming, str]:
    return incoming(f"From: c{n}@example.org\r\nSubject: Printer {n} broken\r\n\r\nIt does not print.\r\n".encode())


# Worker-side doubles: imported by the worker processes by name, as the real one is.

def killed_once(item: Incoming, digest: str):
    """Dies (as kill -9 or the OOM killer would do it) the first time it sees the marked mail, then works."""
    marker = Path(item.envelope_from or "")
    if b"KILL-ME" in item.raw and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return prepare_here(item, digest)


def killed_always(item: Incoming, digest: str):
    if b"KILL-ME" in item.raw:
        os.kill(os.getpid(), signal.SIGKILL)
    return prepare_here(item, digest)


def worker_pid(item: Incoming, digest: str):
    return None, str(os.getpid()), {}


async def test_jobs_from_the_workers_equal_those_prepared_here(pool, settings):
    runner = PipelineRunner(settings=settings, db=None, clock=None)
    mails = sorted(DATA.rglob("*.eml"))
    pairs = [incoming(path.read_bytes(), "import" if n % 5 == 0 else "test") for n, path in enumerate(mails)]
    jobs = await asyncio.gather(*(pool.prepare(item, digest, here=in_thread) for item, digest in pairs))
    for path, (item, digest), job in zip(mails, pairs, jobs):
        here = prepare(item, digest, settings=settings, limits=runner.limits, steps=runner.steps,
                       history_steps=runner.history_steps)
        assert (job.incoming, job.digest, job.problem) == (here.incoming, here.digest, here.problem), path
        if here.mail is None:
            assert job.mail is None, path
            continue
        assert replace(job.mail, message=None) == replace(here.mail, message=None), path
        assert job.mail.message.items() == here.mail.message.items(), path
        assert job.prepared == here.prepared, path


async def test_the_workers_compose_the_outbox_senders_mail_as_this_process_would(pool, monkeypatch):
    from gateway.notify import mail_bytes
    from tests.unit.notify.test_notify_compose import WHEN

    good = mail_bytes.Parts(from_name="Example Help Desk", from_address="ihelp@example.com", to="cust@example.org",
                            subject="Printer on fire", text="We have it.\n", html="<p>We have it.</p>",
                            message_id="abc123@helpdesk.example.com", date=WHEN, in_reply_to=None, references=(),
                            reply_to="ihelp+t42.k3x9q2ab@example.com", auto_submitted="auto-replied",
                            loop_address="ihelp@example.com")
    many = [good, replace(good, to="jörg@example.org"), "no outbound message"]
    expected = mail_bytes.compose_all(many)
    assert isinstance(expected[0], bytes) and expected[1].startswith("cannot compose") and expected[2] == many[2]

    def here(parts):
        raise AssertionError("composed in this process, not in a worker")

    monkeypatch.setattr(mail_bytes, "compose", here)  # (the workers have their own module)
    assert await pool.compose(many) == expected


async def test_a_killed_worker_is_replaced_and_its_mail_prepared_again(pool, tmp_path, caplog):
    pool.work = killed_once
    marked = incoming(b"From: c@example.org\r\nSubject: KILL-ME\r\n\r\nA healthy mail.\r\n")
    marked = (replace(marked[0], envelope_from=str(tmp_path / "killed")), marked[1])
    pairs = [plain(1), marked, plain(2), plain(3)]
    jobs = await asyncio.gather(*(pool.prepare(item, digest, here=in_thread) for item, digest in pairs))
    assert (tmp_path / "killed").exists()  # a worker did die under it
    assert [job.incoming for job in jobs] == [item for item, _ in pairs]  # in order
    assert all(job.mail is not None and not job.problem for job in jobs)
    assert jobs[1].mail.subject == "KILL-ME" and "classify" in jobs[1].prepared
    assert "worker process died" in caplog.text


async def test_a_mail_that_kills_its_worker_again_and_again_is_held_as_poison(pool):
    pool.work = killed_always
    poison = incoming(b"From: c@example.org\r\nSubject: KILL-ME\r\n\r\nPoison.\r\n")
    pairs = [plain(1), poison, plain(2)]
    jobs = await asyncio.gather(*(pool.prepare(item, digest, here=in_thread) for item, digest in pairs))
    assert jobs[1].mail is None and "killed the worker process 2 times" in jobs[1].problem
    assert [job.mail.subject for job in (jobs[0], jobs[2])] == ["Printer 1 broken", "Printer 2 broken"]
    assert not jobs[0].problem and not jobs[2].problem
    pool.work = prepare_here  # and the pool works on
    job = await pool.prepare(*plain(3), here=in_thread)
    assert job.mail.subject == "Printer 3 broken"


async def test_close_stops_the_workers(settings):
    pool = PreparePool(settings=settings, processes=2)
    pool.work = worker_pid
    jobs = await asyncio.gather(*(pool.prepare(*plain(n), here=in_thread) for n in range(6)))
    pids = {int(job.problem) for job in jobs}
    assert pids and os.getpid() not in pids
    pool.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_workers_that_cannot_start_blame_no_mail(settings_factory, caplog):
    """Workers that die at start (here: a step they cannot build) make every mail look poisonous: mail
    is then prepared in this process instead, and none is quarantined."""
    pool = PreparePool(settings=settings_factory(pipeline={"steps": ["no-such-step"]}), processes=1)
    prepared_here = []

    async def here(item: Incoming, digest: str):
        prepared_here.append(item)
        return Job(item, digest, None, "")

    try:
        pairs = [plain(1), plain(2)]
        jobs = await asyncio.gather(*(pool.prepare(item, digest, here=here) for item, digest in pairs))
    finally:
        pool.close()
    assert prepared_here == [item for item, _ in pairs] and not any(job.problem for job in jobs)
    assert "do not start" in caplog.text


async def test_ctrl_c_leaves_the_workers_to_serve(pool, caplog):
    """SIGINT reaches the whole process group in a terminal; serve stops its workers itself."""
    pool.work = worker_pid
    pids = {int(job.problem) for job in await asyncio.gather(*(pool.prepare(*plain(n), here=in_thread)
                                                                for n in range(4)))}
    for pid in pids:
        os.kill(pid, signal.SIGINT)
    pool.work = prepare_here
    job = await pool.prepare(*plain(9), here=in_thread)
    assert job.mail.subject == "Printer 9 broken" and "died" not in caplog.text


OWNER = """
import asyncio, multiprocessing.forkserver, sys
from gateway.config import Settings
from gateway.prepare_pool import PreparePool
from tests.unit.test_prepare_pool import in_thread, plain, worker_pid

async def main():
    pool = PreparePool(settings=Settings(), processes=1)
    pool.work = worker_pid
    job = await pool.prepare(*plain(1), here=in_thread)
    print(job.problem, multiprocessing.forkserver._forkserver._forkserver_pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def test_the_workers_end_when_serve_is_killed(tmp_path):
    """kill -9 of serve: its worker (and the fork server, which lives while a child does) must not live on."""
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    try:
        pids = [int(pid) for pid in owner.stdout.readline().split()]
    finally:
        owner.kill()
        owner.wait()
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in pids if alive(pid)]
    for pid in left:  # not to leave them running when this fails
        os.kill(pid, signal.SIGKILL)
    assert not left


def alive(pid: int) -> bool:
    """Running, not a zombie (the fork server reaps its workers; this test is nobody's parent here)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def worker_parent(item: Incoming, digest: str):
    return None, str(os.getppid()), {}


FORKER = """
import asyncio, os, sys, threading
from gateway.config import Settings
from gateway.prepare_pool import PreparePool
from tests.unit.test_prepare_pool import in_thread, plain, worker_parent

async def main():
    if sys.argv[1] == "with-a-thread":
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    pool = PreparePool(settings=Settings(), processes=1, fork_if_alone=True)
    pool.work = worker_parent
    job = await pool.prepare(*plain(1), here=in_thread)
    print("forked here" if int(job.problem) == os.getpid() else "from the fork server", flush=True)
    pool.close()

asyncio.run(main())
"""


@pytest.mark.parametrize("threads, started", [("alone", "forked here"), ("with-a-thread", "from the fork server")])
def test_workers_fork_from_a_process_with_no_other_thread_only(threads, started):
    """`gateway import` forks its worker from itself (no start-up); a thread could hold a lock the fork copies."""
    ran = subprocess.run([sys.executable, "-c", FORKER, threads], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert ran.stdout.strip() == started, ran.stderr
