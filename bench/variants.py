"""Experiments only: the bridge with a proposed change applied at start-up, to measure it before proposing it.

    .venv/bin/python -m bench.run --bridge-target bench.variants:fast_redactor_app --tag fast-redactor

``fast_redactor_app`` keeps ``bridge.logs.Redactor``'s output identical (checked below) but memoises the
sensitive-key regex per key and runs the email regex only on strings that contain "@". It exists to put a
number on a change to ``bridge/logs.py``, which this bench does not own.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.applications import Starlette

from bridge import logs
from bridge.app import app_from_env


class FastRedactor(logs.Redactor):
    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, bool] = {}

    def _sensitive(self, key: Any) -> bool:
        hit = self._keys.get(key)
        if hit is None:
            hit = bool(logs._SENSITIVE_KEYS.search(str(key)))
            if len(self._keys) < 1024:
                self._keys[key] = hit
        return hit

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, logs.REDACTED)
            return logs._EMAIL.sub("[email]", value) if "@" in value else value
        if isinstance(value, dict):
            return {k: logs.REDACTED if self._sensitive(k) else self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrub(v) for v in value]
        return value

    def __call__(
        self, _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            event_dict[key] = logs.REDACTED if self._sensitive(key) else self._scrub(event_dict[key])
        return event_dict


def fast_redactor_app() -> Starlette:
    fast = FastRedactor()
    original = logs.REDACTOR
    sample = {"a": "x dana@example.com y", "token": "t", "n": 1, "l": ["q@example.org", {"body": 1}]}
    assert fast(None, "", dict(sample)) == original(None, "", dict(sample))
    # swap the processor in place: logs.processors() and configure() read the module attribute
    fast.__dict__.update(original.__dict__)
    fast._keys = {}
    logs.REDACTOR = fast
    return app_from_env()
