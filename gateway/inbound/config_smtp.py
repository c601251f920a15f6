"""config.toml's [smtp] table with the GATEWAY_SMTP__* overlay, for `gateway ingest` to find serve.

Importing tomllib costs a pipe process about as much as the rest of its work (it brings typing,
datetime and a dozen compiled regular expressions). A config.toml written as the shipped one is,
plain `key = value` lines under `[smtp]`, is read here line by line; anything else in the file
that could change what [smtp] holds goes to tomllib. Nothing here validates: the caller checks
the few values it uses, and anything odd sends the mail down the ordinary path.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

DEFAULT = "config.toml"
# The overlay this module applies itself; any other GATEWAY_SMTP* variable could change the table in
# a way it does not follow (GATEWAY_SMTP, lower case, ADDRESSES as a TOML array), so then: None.
OVERLAY = {"GATEWAY_SMTP__HOST": "host", "GATEWAY_SMTP__PORT": "port",
           "GATEWAY_SMTP__MAX_MESSAGE_BYTES": "max_message_bytes"}
IGNORED = {"GATEWAY_SMTP__HOSTNAME", "GATEWAY_SMTP__MAX_RECIPIENTS", "GATEWAY_SMTP__TLS_CERT",
           "GATEWAY_SMTP__TLS_KEY"}  # nothing to do with where serve listens


def smtp_settings(path: str, environ: Mapping[str, str]) -> dict | None:
    """The [smtp] table as gateway.config would see it after the environment overlay; None when
    the file cannot be read, is not TOML, or the overlay is one this module does not follow."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        # As gateway.config: only the default ./config.toml may be missing (then all is default).
        return {} if os.path.normpath(path) == DEFAULT else None
    except (OSError, UnicodeDecodeError):
        return None
    table = plain_smtp_table(text)
    if table is None:
        import tomllib

        try:
            table = tomllib.loads(text).get("smtp", {})
        except tomllib.TOMLDecodeError:
            return None
        if not isinstance(table, dict):
            return None
    for name, value in environ.items():
        if not name.upper().startswith("GATEWAY_SMTP") or name in IGNORED:
            continue
        if name not in OVERLAY or value.startswith(("'", '"')):
            return None  # quoted: gateway.config reads it as TOML; leave that to it
        try:
            table[OVERLAY[name]] = value if name == "GATEWAY_SMTP__HOST" else int(value)
        except ValueError:
            return None
    return table


def plain_smtp_table(text: str) -> dict | None:
    """[smtp] of a config.toml written plainly; None when the file has anything this does not read.

    Plainly means: nothing before the first table header; exactly one `[smtp]` header and no other
    header that mentions smtp; no multi-line strings; under [smtp], one `bare_key = value` per line,
    each value a string without escapes, an integer, true/false, or a one-line array of such strings.
    Elsewhere lines are skipped: in valid TOML they cannot add to [smtp] once those hold.
    """
    if '"""' in text or "'''" in text:
        return None
    table: dict[str, object] | None = None
    section = None  # None before the first header
    for line in text.split("\n"):  # TOML's line ends only: a string may hold U+2028 and the like
        line = line.strip(" \t\r")
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            header = line.partition("#")[0].strip()
            if header == "[smtp]" and table is None:
                table, section = {}, "smtp"
            elif "smtp" in line:
                return None  # [smtp.tls], [ smtp ], ["smtp"], [smtp] twice, or an array line we cannot tell
            else:
                section = "other"
            continue
        if section is None:
            return None  # a root key could be a dotted smtp.port or an inline smtp = {...}
        if section == "smtp":
            key, sep, rest = line.partition("=")
            key = key.strip(" \t")
            value, ok = _value(rest.strip(" \t"))
            bare = key.isascii() and key.replace("_", "a").replace("-", "a").isalnum()  # A-Za-z0-9_-
            if not sep or not ok or not bare or key in table:
                return None
            table[key] = value
    return {} if table is None else table


def _value(text: str) -> tuple[object, bool]:
    """One plain TOML value followed by nothing but a comment: (value, True), else (None, False)."""
    if text.startswith("["):
        items, rest = [], text[1:].lstrip()
        while not rest.startswith("]"):
            item, rest = _string(rest)
            if item is None:
                return None, False
            items.append(item)
            rest = rest.lstrip()
            if rest.startswith(","):
                rest = rest[1:].lstrip()
            elif not rest.startswith("]"):
                return None, False
        return (items, True) if _only_comment(rest[1:]) else (None, False)
    if text.startswith(('"', "'")):
        item, rest = _string(text)
        return (item, item is not None and _only_comment(rest))
    word = text.partition("#")[0].strip(" \t")
    if word in ("true", "false"):
        return word == "true", True
    number = _integer(word)
    return (number, number is not None)


def _integer(word: str) -> int | None:
    """A TOML decimal integer: digits with single underscores between them, no leading zero."""
    digits = word[1:] if word[:1] in ("+", "-") else word
    if not all(part.isascii() and part.isdigit() for part in digits.split("_")):
        return None
    return None if len(digits) > 1 and digits[0] == "0" else int(word)


def _string(text: str) -> tuple[str | None, str]:
    """A "basic" string without escapes or a 'literal' one at the start of `text`, and what follows."""
    quote = text[:1]
    if quote not in ('"', "'"):
        return None, text
    end = text.find(quote, 1)
    item = text[1:end]
    if end < 0 or (quote == '"' and "\\" in item) or not item.isprintable():
        return None, text
    return item, text[end + 1:]


def _only_comment(rest: str) -> bool:
    rest = rest.strip()
    return not rest or rest.startswith("#")
