"""A scripted SMTP listener on loopback for the hand-off's tests: answers from a table, records what it got."""
from __future__ import annotations

import socket
import threading

DEFAULT_ANSWERS = {
    "greeting": "220 scripted ESMTP",
    "EHLO": "250-scripted\r\n250-SIZE 1000000\r\n250 8BITMIME",
    "MAIL": "250 OK",
    "RCPT": "250 OK",
    "DATA": "354 go ahead",
    ".": "250 2.0.0 OK queued as 1",  # the answer to the end of the mail
    "QUIT": "221 Bye",
}
HANG_UP = "hang up"  # as an answer: close the connection instead


class ScriptedSMTP:
    """Serves connections one after another until closed. `answers` overrides DEFAULT_ANSWERS by verb;
    `commands` gets every command line, `mails` the DATA of each mail as sent (dots still doubled)."""

    def __init__(self, **answers: str):
        self.answers = {**DEFAULT_ANSWERS, **answers}
        self.commands: list[str] = []
        self.mails: list[bytes] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept(); close() alone would not
        except OSError:
            pass
        self._server.close()
        self._thread.join(5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                self._converse(conn.makefile("rb"), conn)

    def _converse(self, reader, conn: socket.socket) -> None:
        if not self._say(conn, "greeting"):
            return
        while line := reader.readline():
            command = line.decode("ascii", "replace").rstrip("\r\n")
            self.commands.append(command)
            verb = command.split(" ", 1)[0].split(":", 1)[0].upper()
            if not self._say(conn, verb if verb in self.answers else "unknown"):
                return
            if verb == "DATA" and self.answers["DATA"].startswith("354"):
                mail = b""
                while not mail.endswith(b"\r\n.\r\n") and (chunk := reader.readline()):
                    mail += chunk
                self.mails.append(mail)
                if not self._say(conn, "."):
                    return
            if verb == "QUIT":
                return

    def _say(self, conn: socket.socket, key: str) -> bool:
        answer = self.answers.get(key, "500 unknown command")
        if answer == HANG_UP:
            return False
        conn.sendall(answer.encode() + b"\r\n")
        return True
