"""Fault injection for the local GitHub simulator, switchable per test.

A fault is a JSON spec posted to ``POST /_sim/faults``::

    {"method": "POST", "path": "/issues$", "kind": "lost_response", "times": 1, "skip": 0}

``path`` is a regular expression searched in the request path, ``method`` is optional
(any method when absent), ``times`` is how many matching requests it hits (0 = every one
until ``DELETE /_sim/faults``), ``skip`` lets that many matching requests pass first.
Kinds and their extra fields:

- ``status``: answer ``status`` (default 500) with ``body`` (default a basic-error JSON).
- ``lost_response``: perform the request, then close the connection without answering.
- ``reset``: reset the connection without answering; nothing is performed.
- ``secondary_limit``: 403 secondary-rate-limit message with ``retry-after: retry_after`` (default 60).
- ``rate_429``: 429, with ``retry-after`` only if ``retry_after`` is given.
- ``primary_limit``: 403 primary-limit message, ``x-ratelimit-remaining: 0`` and reset in
  ``reset_in`` seconds (default 60).
- ``slow``: wait ``delay`` seconds (default 1.0), then answer normally.
- ``hang``: perform the request, then hold the answer for ``delay`` seconds before sending it (the write
  is stored while the client may already have given up).

Storage and matching are shared with the FreeScout simulator (``sandbox.faults``).
"""

from __future__ import annotations

from sandbox import faults
from sandbox.faults import Fault

__all__ = ["KINDS", "Fault", "FaultSet"]

KINDS = ("status", "lost_response", "reset", "secondary_limit", "rate_429", "primary_limit", "slow", "hang")


class FaultSet(faults.FaultSet):
    """The GitHub simulator's faults: its kinds, and a 60 s ``retry-after`` for a secondary limit."""

    def __init__(self) -> None:
        super().__init__(KINDS, {"secondary_limit": 60})
