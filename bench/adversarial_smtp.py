"""A good SMTP client's dialogue times while hostile and huge mail arrives, and serve's memory per MB of mail.

    python bench/adversarial_smtp.py [--seconds 20] [--mb 24]

Starts `gateway serve` (SQLite) in a fresh process. A good client sends one small mail a second,
each in a connection of its own, and times each whole dialogue (connect to QUIT). Meanwhile a
250-byte pathological mail (the loop guard's old exponential case) and a 24 MB text mail are sent.
Prints the good client's p50/p99/max and serve's peak RSS growth per MB of the big mail.
"""
from __future__ import annotations

import argparse
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.memory import _hwm_kb, _rss_kb, start_serve  # noqa: E402
from tests.conftest import wait_listening  # noqa: E402

PATHOLOGICAL = (b"From: someone@client.example\r\nTo: ihelp@example.com\r\nSubject: hello\r\n\r\n"
                + b"dear " * 23 + b"x\r\n")


def big_text_mail(megabytes: int) -> bytes:
    line = b"2026-12-06 10:00:00 ERROR export failed: connection reset by peer while writing chunk\r\n"
    body = line * (megabytes * 1024 * 1024 // len(line))
    return (b"From: ops@client.example\r\nTo: ihelp@example.com\r\nSubject: full export log\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body)


def send(port: int, raw: bytes, sender: str, timeout: float = 300) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=timeout) as client:
        client.sendmail(sender, ["ihelp@example.com"], raw)
    return time.perf_counter() - started


def good_client(port: int, stop: threading.Event, times: list[float]) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        raw = (f"From: good@client.example\r\nTo: ihelp@example.com\r\nSubject: good {n}\r\n\r\n"
               f"The printer is jammed ({n}).\r\n").encode()
        times.append(send(port, raw, "good@client.example", timeout=60))
        stop.wait(max(0.0, 1.0 - times[-1]))


def run(seconds: float, megabytes: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="gwadv") as tmp:
        server, port = start_serve(Path(tmp))
        try:
            wait_listening(port, server)
            send(port, b"Subject: warm-up\r\n\r\nhello\r\n", "warm@client.example")
            time.sleep(1)
            idle = _rss_kb(server.pid)
            big = big_text_mail(megabytes)
            times: list[float] = []
            stop = threading.Event()
            client = threading.Thread(target=good_client, args=(port, stop, times))
            client.start()
            time.sleep(2)
            hostile = [threading.Thread(target=send, args=(port, PATHOLOGICAL, "someone@client.example")),
                       threading.Thread(target=send, args=(port, big, "ops@client.example"))]
            for thread in hostile:
                thread.start()
            time.sleep(seconds)
            for thread in hostile:
                thread.join()
            stop.set()
            client.join()
            peak = _hwm_kb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    ordered = sorted(times)
    return {"dialogues": len(times), "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, "max_ms": ordered[-1] * 1000,
            "mail_mb": len(big) / 1e6, "grown_mb": (peak - idle) / 1024,
            "mb_per_mb": (peak - idle) / 1024 / (len(big) / 1024 / 1024)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--mb", type=int, default=24)
    args = parser.parse_args(argv)
    result = run(args.seconds, args.mb)
    print(f"good client during a {result['mail_mb']:.0f} MB mail and a pathological one: {result['dialogues']} "
          f"dialogues, p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms")
    print(f"serve's peak memory grew {result['grown_mb']:.0f} MB = {result['mb_per_mb']:.1f} MB per MB of mail")
    return result


if __name__ == "__main__":
    main()
