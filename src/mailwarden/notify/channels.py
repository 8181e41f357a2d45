"""Sending one delivery over its channel.

Email goes through apprise (its SMTP sender handles TLS modes, authentication and the
multipart text + HTML message). Teams, Slack and generic JSON webhooks are posted with
httpx because each needs a body apprise cannot send as is: apprise's Teams (workflows)
plugin builds its own card from a title and a markdown body, parsing `<at>` mentions in
it, and takes a custom card only from a template file; its Slack plugin builds its own
blocks and posts only to Slack's fixed hosts; its JSON plugin sends a fixed
{version, title, message, type} object, not the alert. Syslog is a plain UDP or TCP socket
carrying RFC 5424 messages (logging's SysLogHandler writes only the older BSD format).

Delivery is at least once: a crash between a post and its "sent" mark in the outbox posts
it again on the next run. Every webhook post therefore carries the outbox delivery id,
stable across retries and restarts, as an `Idempotency-Key` header, and the JSON webhook
also in its body (`idempotency_key`), so a receiver can drop the repeat. Teams and Slack
get the header only: their payloads are their own formats (an Adaptive Card message, Slack
blocks) with no field for it, and neither service de-duplicates by it.
"""

from __future__ import annotations

import importlib
import json
import logging
import socket
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise
import httpx

from mailwarden import __version__
from mailwarden.errors import MailwardenError
from mailwarden.notify.cef import syslog_message, tcp_frame
from mailwarden.notify.outbox import Delivery
from mailwarden.notify.redact import Redactor
from mailwarden.notify.render_chat import slack_payload, teams_card, webhook_payload
from mailwarden.notify.render_text import html_body
from mailwarden.notify.routing import Channel, ChannelType

_TIMEOUT = 15.0


def _load_apprise_email() -> None:
    """Import apprise's email plugin before first use with one warning silenced: its PGP
    helper imports `imghdr`, deprecated since Python 3.11, which is apprise's business and
    nothing a user of mailwarden can act on (and an error where warnings are errors)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*imghdr.*", category=DeprecationWarning)
        importlib.import_module("apprise.plugins.email.base")


class DeliveryError(MailwardenError):
    """A channel did not accept a message; the text names the channel and why. The other
    deliveries went ahead, so it is a partial result (4)."""

    exit_code = 4


def email_url(channel: Channel, delivery: Delivery) -> str:
    """The channel's apprise URL with this delivery's To and Cc added."""
    parts = urlsplit(channel.url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in {"to", "cc"}]
    fixed_to = [v for k, v in parse_qsl(parts.query) if k.lower() == "to"]
    to = [*fixed_to, *delivery.recipients.to]
    if not to:
        raise DeliveryError(f"channel {channel.name}: nobody to send to (no custodian, and the "
                            "routing file names no fallback or security_team)")
    query.append(("to", ",".join(to)))
    if delivery.recipients.cc:
        query.append(("cc", ",".join(delivery.recipients.cc)))
    return urlunsplit(parts._replace(query=urlencode(query, safe="@,")))


@dataclass
class Senders:
    """Sends deliveries; one HTTP client per run, passed in (tests point it at loopback)."""

    client: httpx.Client
    redact: Redactor
    version: str = __version__

    def send(self, channel: Channel, delivery: Delivery) -> None:
        """Raise `DeliveryError` (with secrets redacted) when the channel refuses."""
        try:
            self._send(channel, delivery)
        except DeliveryError as exc:
            raise DeliveryError(self.redact(str(exc))) from None
        except (httpx.HTTPError, OSError) as exc:
            reason = self.redact(f"{type(exc).__name__}: {exc}")
            raise DeliveryError(f"channel {channel.name}: {reason}") from None

    def _send(self, channel: Channel, delivery: Delivery) -> None:
        notice, recipients = delivery.notice, delivery.recipients
        if channel.type is ChannelType.EMAIL:
            self._email(channel, delivery)
        elif channel.type is ChannelType.TEAMS:
            self._post(channel, delivery, teams_card(notice, recipients))
        elif channel.type is ChannelType.SLACK:
            self._post(channel, delivery, slack_payload(notice, recipients))
        elif channel.type is ChannelType.JSON:
            payload = webhook_payload(notice, channel=channel.name, recipients=recipients)
            self._post(channel, delivery, {**payload, "idempotency_key": delivery.id})
        else:
            self._syslog(channel, delivery)

    def _email(self, channel: Channel, delivery: Delivery) -> None:
        _load_apprise_email()
        notifier = apprise.Apprise()
        if not notifier.add(email_url(channel, delivery)):
            raise DeliveryError(f"channel {channel.name}: apprise cannot use the URL "
                                f"{channel.shown_url}")
        # apprise reports why a send failed only through its log (the SMTP server's answer
        # at debug level); capture it for the delivery report.
        with apprise.LogCapture(level=logging.DEBUG,  # type: ignore[no-untyped-call]
                                fmt="%(levelname)s|%(message)s") as log:
            sent = notifier.notify(
                body=html_body(delivery.notice, delivery.recipients),
                title=delivery.notice.subject, body_format=apprise.NotifyFormat.HTML)
            captured = str(log.getvalue())
        if not sent:
            why = _apprise_reasons(captured) or "the SMTP server refused the message"
            raise DeliveryError(f"channel {channel.name}: {why}")

    def _post(self, channel: Channel, delivery: Delivery, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        response = self.client.post(channel.url, content=body, timeout=_TIMEOUT,
                                    headers={"Content-Type": "application/json",
                                             "User-Agent": f"mailwarden/{self.version}",
                                             "Idempotency-Key": delivery.id})
        if response.status_code >= 300:
            raise DeliveryError(f"channel {channel.name}: HTTP {response.status_code} "
                                f"{response.reason_phrase}: {response.text[:200]!r}")

    def _syslog(self, channel: Channel, delivery: Delivery) -> None:
        parts = urlsplit(channel.url)
        host, port = parts.hostname or "localhost", parts.port or 514
        message = syslog_message(delivery.notice, facility=channel.facility,
                                 version=self.version)
        if parts.scheme == "udp":
            with socket.socket(_family(host), socket.SOCK_DGRAM) as sock:
                sock.sendto(message, (host, port))
        else:
            with socket.create_connection((host, port), timeout=_TIMEOUT) as sock:
                sock.sendall(tcp_frame(message))


def _apprise_reasons(captured: str) -> str:
    """The warnings and socket exceptions of an apprise log, in one line."""
    reasons = []
    for line in captured.splitlines():
        level, _, message = line.partition("|")
        if level in {"WARNING", "ERROR"} or "Exception" in message:
            reasons.append(" ".join(message.split()))
    return "; ".join(dict.fromkeys(reasons))


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
