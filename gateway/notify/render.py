"""Render templates/<name>.{subject,txt,html}.j2 in a Jinja sandbox; a missing value is a ConfigError."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import jinja2
from jinja2.sandbox import SandboxedEnvironment

import gateway
from gateway.errors import ConfigError
from gateway.mail.compose import one_line

DEFAULT_TEMPLATES_DIR = Path(gateway.__file__).resolve().parents[1] / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def _autoescape(name: str | None) -> bool:
    # Only HTML is escaped: escaping the text part or the subject would show "&lt;" to readers.
    return bool(name) and name.endswith(".html.j2")


class Renderer:
    """Loads templates once per name from `templates_dir`; operators edit the files, not the code."""

    def __init__(self, templates_dir: Path | None = None):
        self.templates_dir = Path(templates_dir or DEFAULT_TEMPLATES_DIR)
        # Sandboxed: templates are edited by operators and see customer text; they must not reach Python.
        self.env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(str(self.templates_dir)),
            undefined=jinja2.StrictUndefined,
            autoescape=_autoescape,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """Rendered(subject, text, html) for template `name`, e.g. "customer/ack"; html None without .html.j2."""
        subject = one_line(self._render(f"{name}.subject.j2", context))
        text = self._render(f"{name}.txt.j2", context)
        html_file = f"{name}.html.j2"
        html = self._render(html_file, context) if (self.templates_dir / html_file).is_file() else None
        return Rendered(subject=subject, text=text, html=html)

    def render_file(self, file: str, context: Mapping[str, Any]) -> str:
        """One template file, e.g. "report/incident.md.j2", for output that is not a mail (a report)."""
        return self._render(file, context)

    def _render(self, file: str, context: Mapping[str, Any]) -> str:
        path = f"{self.templates_dir}/{file}"  # for the messages below (a Path made per render cost more)
        try:
            return self.env.get_template(file).render(context)
        except jinja2.TemplateNotFound:
            raise ConfigError(f"template {path}: not found; create it or fix the template name") from None
        except jinja2.UndefinedError as exc:
            raise ConfigError(f"template {path}: {exc.message} (line {_line(exc, file)}); "
                              f"pass that value in the context or remove it from the template") from None
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"template {path}: syntax error on line {exc.lineno}: {exc.message}; "
                              f"fix the template") from None
        except jinja2.TemplateError as exc:  # includes the sandbox's SecurityError
            raise ConfigError(f"template {path}: {str(exc).rstrip('.')}; fix the template") from None


def _line(exc: BaseException, file: str) -> str:
    """The template line an error was raised on, from Jinja's rewritten traceback; '?' if unknown."""
    tb, line = exc.__traceback__, "?"
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(file):
            line = str(tb.tb_lineno)
        tb = tb.tb_next
    return line
