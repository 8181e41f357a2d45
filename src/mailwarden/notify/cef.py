"""A notice as an ArcSight CEF event inside an RFC 5424 syslog message.

CEF escaping: in header fields `\\` and `|` are escaped with a backslash; in extension
values `\\` and `=` are, and line breaks become the two characters `\\n`. Over TCP, messages
are framed by octet counting (RFC 6587), which survives line breaks in values.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from datetime import UTC, datetime

from mailwarden.model.findings import Severity
from mailwarden.notify.notice import Notice
from mailwarden.notify.render_text import mailboxes_line, one_line
from mailwarden.text import printable
from mailwarden.times import iso, parse_time

VENDOR = "mailwarden"
PRODUCT = "mailwarden"
CEF_SEVERITY: Mapping[str, int] = {
    Severity.CRITICAL: 10, Severity.HIGH: 8, Severity.MEDIUM: 5, Severity.LOW: 3,
    Severity.INFO: 1}
#: RFC 5424 severities: critical, error, warning, notice, informational.
SYSLOG_SEVERITY: Mapping[str, int] = {
    Severity.CRITICAL: 2, Severity.HIGH: 3, Severity.MEDIUM: 4, Severity.LOW: 5,
    Severity.INFO: 6}
_NOT_PRINTABLE = re.compile(r"[^\x21-\x7e]")


def cef_header_escape(value: str) -> str:
    # printable turns line breaks into spaces and drops controls (an ESC would reach the
    # terminal of whoever reads the log).
    return printable(value).replace("\\", "\\\\").replace("|", "\\|")


def cef_value_escape(value: str) -> str:
    return (printable(value, lines=True).replace("\\", "\\\\").replace("=", "\\=")
            .replace("\n", "\\n"))


def _epoch_ms(text: str | None) -> str | None:
    moment = parse_time(text)
    return None if moment is None else str(int(moment.timestamp() * 1000))


def cef_event(notice: Notice, version: str) -> str:
    """One CEF:0 line for a notice."""
    signature = notice.rule_id if notice.kind == "alert" else notice.check_id
    header = [
        "CEF:0", VENDOR, PRODUCT, version, str(signature or notice.kind),
        notice.subject, str(CEF_SEVERITY.get(notice.severity, 1)),
    ]
    extension: list[tuple[str, str | None]] = [
        ("cat", notice.category or notice.check_id),
        ("msg", one_line(notice.summary, 1000)),
        ("duser", notice.mailboxes[0] if notice.mailboxes else None),
        ("src", notice.source_ips[0] if notice.source_ips else None),
        ("start", _epoch_ms(notice.first_seen)),
        ("end", _epoch_ms(notice.last_seen)),
        ("cs1Label", "notificationKey"), ("cs1", notice.key),
        ("cs2Label", "mailboxes"), ("cs2", mailboxes_line(notice)),
        ("cs3Label", "doNow"), ("cs3", " / ".join(notice.actions)),
        ("cs4Label", "escalation"), ("cs4", "yes" if notice.escalation else "no"),
    ]
    rendered = " ".join(f"{key}={cef_value_escape(value)}" for key, value in extension
                        if value is not None)
    return "|".join(cef_header_escape(field) if index else field
                    for index, field in enumerate(header)) + "|" + rendered


def _header_field(value: str, limit: int) -> str:
    cleaned = _NOT_PRINTABLE.sub("", value)[:limit]
    return cleaned or "-"


def syslog_message(notice: Notice, *, facility: int, version: str,
                   now: datetime | None = None, hostname: str | None = None) -> bytes:
    """An RFC 5424 message carrying the CEF event as MSG."""
    priority = facility * 8 + SYSLOG_SEVERITY.get(notice.severity, 6)
    stamp = iso(now or datetime.now(UTC), timespec="milliseconds")
    host = _header_field(hostname or socket.gethostname(), 255)
    header = f"<{priority}>1 {stamp} {host} mailwarden {os.getpid()} {notice.kind} -"
    return f"{header} {cef_event(notice, version)}".encode()


def tcp_frame(message: bytes) -> bytes:
    """Octet-counting framing (RFC 6587 section 3.4.1)."""
    return str(len(message)).encode("ascii") + b" " + message
