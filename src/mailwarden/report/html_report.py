"""report.html: one self-contained file (inline CSS, script and SVG charts; no fetches).

Every value passes through Jinja's autoescaping: display names, rule names, user agents
and log fields come from the tenant and its logs, which an attacker can write. A
Content-Security-Policy allows only the report's own script (by its hash) and no network
at all, so even a value that slipped through could neither run nor load anything.
"""

from __future__ import annotations

import base64
import hashlib

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from mailwarden.model.run import FindingChangeKind, Run
from mailwarden.report.html_view import report_context
from mailwarden.text import plural


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mailwarden.report", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["plural"] = plural  # {{ n|plural("event") }}: "1 event", "3 events"
    return env


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def render(run: Run) -> str:
    env = _environment()
    script = env.get_template("report.js.j2").render()
    style = env.get_template("report.css.j2").render()
    policy = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src '{_csp_hash(script)}'; base-uri 'none'; form-action 'none'"
    )
    return env.get_template("report.html.j2").render(
        **report_context(run),
        csp=policy,
        script=Markup(script),  # our own static text, not tenant data
        style=Markup(style),
        change_kinds=list(FindingChangeKind),
    )
