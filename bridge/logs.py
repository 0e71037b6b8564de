"""structlog set-up: JSON lines, context bound per delivery, and one redaction processor for everything.

The redactor is the single place that keeps secrets, tokens, raw bodies and customer emails out of logs:
it drops values under sensitive keys and scrubs every known secret value and every email address from
all strings, however they got there (an exception message, an upstream error text).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import orjson
import structlog

_SENSITIVE_KEYS = re.compile(
    r"(secret|token|api_?key|authorization|password|private_key|signature|raw|body)", re.I
)
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]+(\.[\w-]+)+")  # bounded: no quadratic scan on long words
REDACTED = "[redacted]"
_PLAIN = (int, float, bool, type(None))  # a tuple: ``int | float`` would build a Union on every check
#: Fields whose values the bridge makes itself from fixed vocabularies (never request or upstream text).
_OWN_FIELDS = frozenset({"msg", "level", "timestamp", "outcome", "reason", "route", "request_id", "status"})


class Redactor:
    """A structlog processor; ``add_secrets`` registers values that must never be printed."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._sensitive: dict[str, bool] = {}  # key -> is it sensitive; keys are few and fixed
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self._secrets |= {s for s in secrets if s and len(s) >= 4}

    def _is_sensitive(self, key: object) -> bool:
        name = str(key)
        hit = self._sensitive.get(name)
        if hit is None:
            hit = bool(_SENSITIVE_KEYS.search(name))
            if len(self._sensitive) < 1024:
                self._sensitive[name] = hit
        return hit

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return _EMAIL.sub("[email]", value) if "@" in value else value
        if isinstance(value, dict):
            return {k: REDACTED if self._is_sensitive(k) else self._scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._scrub(v) for v in value]
        return value

    def __call__(
        self, _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in event_dict.items():
            if key in _OWN_FIELDS or isinstance(value, _PLAIN):
                continue
            if self._is_sensitive(key):
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self._scrub(value)
        return event_dict


REDACTOR = Redactor()


def processors() -> list[Any]:
    """The chain, shared by the app and by tests that capture logs: structlog's own processors, then the
    redactor last, so it also sees the formatted exception text.

    The message goes to ``msg`` so that ``event`` can carry the FreeScout event (bound as ``_event``);
    the timestamp is UTC ISO 8601 with microseconds and ``Z``.
    """
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.EventRenamer("msg", replace_by="_event"),
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="%Y-%m-%dT%H:%M:%S.%fZ", utc=True),
        structlog.processors.format_exc_info,
        REDACTOR,
    ]


def render_json(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> str:
    """One ASCII JSON line. orjson is several times faster than ``json`` on the per-delivery line; ``json``
    takes what orjson refuses (a lone surrogate, a non-string key, a 65-bit integer) and non-ASCII text."""
    try:
        line = orjson.dumps(event_dict, default=repr)
        if line.isascii():  # the usual case; otherwise ``json`` escapes, as a non-UTF-8 stdout needs
            return line.decode()
    except TypeError:
        pass
    return json.dumps(event_dict, default=repr)


def configure(
    secrets: Iterable[str] = (), level: str = "INFO", stream: TextIO | None = None, *, cache: bool = False
) -> None:
    """Configure once at start-up (not at import). The CLI passes ``sys.stderr`` to keep stdout clean.

    ``cache`` freezes each module's logger on first use, which saves building a logger per log call; only
    the web process asks for it (its configuration never changes), never code that tests reconfigure.
    """
    REDACTOR.add_secrets(secrets)
    structlog.configure(
        processors=[*processors(), render_json],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stdout),
        cache_logger_on_first_use=cache,
    )


def get_logger() -> Any:
    return structlog.get_logger("bridge")
