"""The spool file's own writes: large mail goes in through a blob handle and reads back byte for byte."""
from __future__ import annotations

import os

from gateway.store import spool_file


def test_small_and_large_mail_read_back_whole_in_order(tmp_path):
    conn = spool_file.connect(str(tmp_path / "gw.db.spool.sqlite"), busy_timeout_ms=1000, create=True)
    large = os.urandom(3 * spool_file.PIECE + 12345)  # not a whole number of pieces
    small = b"Subject: hello\r\n\r\nbody\r\n"
    ids = spool_file.write(conn, [("2026-12-06T00:00:00+00:00", "smtp", "a@example.org", '["ihelp@example.com"]',
                                   "d1", large),
                                  ("2026-12-06T00:00:01+00:00", "pipe", None, "[]", "d2", small)])
    assert ids == sorted(ids)
    rows = spool_file.rows(conn, ids, with_raw=set(ids))
    assert [row[-1] for row in rows] == [large, small]
    assert spool_file.heads(conn, 10) == [(ids[0], len(large), "d1"), (ids[1], len(small), "d2")]
    assert spool_file.heads(conn, 10, skip=[ids[0]]) == [(ids[1], len(small), "d2")]
