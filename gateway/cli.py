"""The `gateway` command: parse arguments, call one function, map errors to an exit code and one line."""
from __future__ import annotations

import os
import sys

from gateway.config_path import config_file, find_config_path
from gateway.errors import ConfigError, GatewayError, NotFound, TempFail, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

EXIT_OK, EXIT_NOT_FOUND, EXIT_CONFIG, EXIT_USAGE, EXIT_SOFTWARE, EXIT_TEMPFAIL = 0, 1, 2, 64, 70, 75


def run() -> None:
    """The `gateway` program (console script, `python -m gateway.cli`): main() on this command line."""
    sys.exit(main(end_process=True))


def main(argv: list[str] | None = None, *, end_process: bool = False) -> int:
    """The exit code for `argv` (default: this process's). With end_process, a mail handed to serve
    ends the process there and then: nothing is left to clean up, and the interpreter's teardown
    would cost a pipe process milliseconds per mail."""
    argv = sys.argv[1:] if argv is None else argv
    environ = dict(os.environ)
    # An MTA runs `ingest` once per mail: hand it to serve before argparse, pydantic, the ORM or asyncio.
    plain = plain_ingest(argv)
    handed = None if plain is None else guarded(hand_off_to_serve, *plain, environ)
    if plain is not None and not isinstance(handed, int):
        # No serve took it: commit it to the spool file, still before anything heavy (SQLite only).
        handed = guarded(spool_alone, *plain, environ, mail=handed)
    if isinstance(handed, int):
        if end_process:
            _end(handed)
        return handed
    from gateway.cli_parser import build_parser

    args = build_parser().parse_args(argv)
    if args.command == "ingest":
        if plain is None and not args.drain:  # a spelling of the command line that only argparse reads (--send=, ...)
            handed = guarded(hand_off_to_serve, args.config, args.sender, args.recipient, environ)
            if isinstance(handed, int):
                return handed
        args.mail = handed  # the mail when already read from stdin
    return run_command(args, environ)


def guarded(step, *args, **kwargs) -> int | bytes | None:
    """hand_off_to_serve() or spool_alone(), with a bug in it ending as 75: the mail may be read already, so
    the MTA must keep it."""
    try:
        return step(*args, **kwargs)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        print(f"gateway: internal error: {type(exc).__name__}: {exc}; please report it", file=sys.stderr)
        return EXIT_TEMPFAIL


# Commands that run mail or schedules: they check everything `config check` does (listings need not),
# and they hold whole mails in memory (gateway/allocator.py).
MAIL_COMMANDS = ("serve", "ingest", "import", "jobs")


def run_command(args: argparse.Namespace, environ: dict[str, str]) -> int:
    """Load the configuration, run the command, map what it raised to an exit code and one line."""
    path = find_config_path(args.config, environ)
    # Imported only now: pydantic with every model, and asyncio, are most of a short process's time.
    import asyncio

    from gateway import config as config_module

    if args.command == "config":
        settings, found = config_module.problems(path, environ)
        if settings is not None:  # serve refuses to start without them; other commands do not need them
            from gateway.config_trackers import env_problems

            found = env_problems(settings.trackers, environ)
        for line in found:
            print(line, file=sys.stderr)
        if not found:
            print(f"{path}: ok")
        return EXIT_CONFIG if found else EXIT_OK
    try:
        settings = config_module.load(path, environ, deep=args.command in MAIL_COMMANDS)
        if args.command in MAIL_COMMANDS:
            from gateway.allocator import map_large_buffers

            map_large_buffers()
        return asyncio.run(dispatch(args, settings, environ))
    except ConfigError as exc:
        for line in str(exc).splitlines():
            print(f"gateway: config: {line}", file=sys.stderr)
        # A mail handed to us by an MTA must not bounce for our config: ask it to retry instead.
        return EXIT_TEMPFAIL if args.command == "ingest" else EXIT_CONFIG
    except TempFail as exc:
        print(f"gateway: temporary failure: {exc}; nothing was lost, try again later", file=sys.stderr)
        return EXIT_TEMPFAIL
    except NotFound as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except UsageError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except GatewayError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return EXIT_TEMPFAIL if args.command == "ingest" else EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one line, and for a piped mail still "try again"
        print(f"gateway: internal error: {type(exc).__name__}: {exc}; please report it", file=sys.stderr)
        return EXIT_TEMPFAIL if args.command == "ingest" else EXIT_SOFTWARE


def plain_ingest(argv: list[str]) -> tuple[str | None, str | None, list[str]] | None:
    """(config, sender, recipients) from `[--config C] ingest [--sender S] [--recipient R]...`.

    The command line an MTA's pipe writes, read without argparse (its import and parser cost a pipe
    process time). `--opt=value` is read too. None for anything else, also for a value that starts
    with "-": argparse reads those, and for `ingest` hands the mail to serve all the same.
    """
    config, sender, recipients = None, None, []
    at, command = 0, None
    while at < len(argv):
        if command is None and argv[at] == "ingest":
            command, at = "ingest", at + 1
            continue
        name, value, at = _option(argv, at)
        if command is None and name == "--config":
            config = value
        elif command == "ingest" and name == "--sender":
            sender = value
        elif command == "ingest" and name == "--recipient":
            recipients.append(value)
        else:
            return None
    return (config, sender, recipients) if command else None


def _option(argv: list[str], at: int) -> tuple[str | None, str, int]:
    """The option at argv[at], its value and where the next one starts; name None when not plain."""
    name, equals, value = argv[at].partition("=")
    if equals and name.startswith("--"):
        return name, value, at + 1
    if name.startswith("--") and at + 1 < len(argv) and not argv[at + 1].startswith("-"):
        return name, argv[at + 1], at + 2
    return None, "", at + 1


def hand_off_to_serve(config: str | None, sender: str | None, recipients: list[str], environ) -> int | bytes | None:
    """`ingest` through a running serve, before anything heavy is imported.

    An int: the exit code, done. Bytes: the mail, read from stdin already, for this process to store
    (serve is not running or refused it). None: not tried, stdin untouched.
    """
    from gateway.inbound import handoff

    if sender is None:
        # Over SMTP an unknown sender cannot be said: MAIL FROM:<> would make the mail a bounce.
        return None
    to = handoff.listener(config_file(config, environ), environ)
    if to is None:
        return None
    mail = read_stdin_mail(to.max_bytes)
    if isinstance(mail, int):
        return mail
    handed = handoff.hand_off(mail, to=to, sender=sender, recipients=recipients)
    if handed is None:
        return mail
    if handed.line:
        print(handed.line, file=sys.stderr)
    return handed.code


def read_stdin_mail(max_bytes: int) -> bytes | int:
    """The mail on standard input, or the exit code (with its line said) when it cannot be taken."""
    from gateway.inbound import handoff

    try:
        mail = handoff.read_mail(sys.stdin.buffer, max_bytes)
    except OSError as exc:
        print(f"gateway: temporary failure: cannot read the mail from standard input: {exc}", file=sys.stderr)
        return EXIT_TEMPFAIL
    if mail is None:
        print(f"gateway: mail larger than smtp.max_message_bytes ({max_bytes} bytes); "
              f"the sender should send a smaller mail", file=sys.stderr)
        return handoff.EX_UNAVAILABLE
    return mail


def spool_alone(config: str | None, sender: str | None, recipients: list[str], environ, *,
                mail: bytes | None) -> int | bytes | None:
    """`ingest` with no serve: the mail committed to the spool file beside a SQLite database, with the
    standard library only; serve, `ingest --drain` or `jobs run spool` runs the pipeline over it.

    An int: the exit code, done. Bytes: the mail (`mail`, or read from stdin here), for the ordinary
    path. None: not tried, stdin untouched (another database than a SQLite file, or odd config).
    """
    import sqlite3

    from gateway.inbound import handoff, pipe_spool

    path = config_file(config, environ)
    target, limits = pipe_spool.spool_target(path, environ), handoff.listener(path, environ)
    if target is None or limits is None:
        return mail
    if mail is None:
        mail = read_stdin_mail(limits.max_bytes)
        if isinstance(mail, int):
            return mail
    spool, busy_timeout_ms = target
    try:
        pipe_spool.spool_mail(mail, path=spool, busy_timeout_ms=busy_timeout_ms, sender=sender,
                              recipients=recipients)
    except (sqlite3.Error, OSError) as exc:
        from gateway.store.spool_file import problem

        print(f"gateway: temporary failure: {problem(spool, exc)}; nothing was lost, try again later",
              file=sys.stderr)
        return EXIT_TEMPFAIL
    return EXIT_OK


def _end(code: int) -> None:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # nobody reads our output: the exit code is what counts
        pass
    os._exit(code)


async def dispatch(args: argparse.Namespace, settings, environ) -> int:
    from gateway import commands

    handler = getattr(commands, f"{args.command}_{getattr(args, 'action', '') or 'run'}".replace("-", "_"))
    return await handler(args, settings, environ)


if __name__ == "__main__":
    run()
