"""What one delivery (or sweep item) decided and did: the summary log line and the answer are built from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.criteria import Decision


@dataclass
class Outcome:
    """``decision`` and ``reason`` go to the log line, the metric and the JSON answer; ``writes`` lists
    what was actually written, in order."""

    decision: str
    reason: str
    issue_url: str = ""
    writes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, decision: Decision, issue_url: str = "") -> Outcome:
        return cls(decision.action.value, decision.reason, issue_url)
