"""One human line per decision: what the linker decided about a conversation, why, and what it did.

Pure: built from the ``Outcome``, the fresh conversation the decision was made on (when known) and the
config. ``freescout-bridge sync`` prints it; the troubleshooting runbook's reason table mirrors it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bridge.cutoff import REASON as CUTOFF_REASON
from bridge.cutoff import stamp
from bridge.linker import Outcome
from bridge.model import Conversation
from bridge.settings import BridgeConfig
from bridge.vocab import FIELD_GITHUB_ISSUE_URL, TAG_FROM_GITHUB

#: How each decision reads at the start of the line.
VERDICTS = {
    "linked": "linked",
    "would_link": "would be linked",
    "ignore": "not linked",
    "complete_link": "link completed",
    "would_complete_link": "link would be completed",
    "would_fail": "cannot be linked",
    "misconfigured": "cannot be linked",
    "comment_closed": "closing comment handled",
    "would_comment_closed": "closing comment would be posted",
    "held_back": "held back",
}

#: Decisions to ignore that are not "not linked" at all.
IGNORED_BECAUSE = {"already_linked": "already linked", "linked_elsewhere": "linked elsewhere"}

#: What each write did, in the words of the person on call.
WRITES = {
    "create_issue": "created the GitHub issue",
    "set_custom_field": f"wrote {FIELD_GITHUB_ISSUE_URL}",
    "add_note": "posted the internal note",
    "create_comment": "commented on the issue",
}

#: What the live run does for each "would_" decision.
WOULD_DO = {
    "would_link": f"find or create the GitHub issue, write {FIELD_GITHUB_ISSUE_URL}, post the internal note",
    "would_complete_link": "post the missing internal note",
    "would_comment_closed": "comment once on the linked issue",
    "would_fail": "refuse until the field exists",
}

Explainer = Callable[[Conversation | None, BridgeConfig, str], str]


def _names(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "(none)"


def _no_trigger(conv: Conversation | None, config: BridgeConfig, _url: str) -> str:
    text = f"it has none of the tags {_names(config.tags)}"
    if config.keyword_scan.enabled and config.keyword_scan.keywords:
        text += f" and none of the keywords {_names(config.keyword_scan.keywords)}"
    if conv is not None:
        text += f" (its tags: {_names(conv.tags or ())})"
    return text


def _mailbox(conv: Conversation | None, config: BridgeConfig, _url: str) -> str:
    where = f"mailbox {conv.mailbox_id}" if conv else "its mailbox"
    listed = _names([str(m) for m in config.mailboxes])
    return f"{where} is not in [autolink] mailboxes ({listed})"


def _field_missing(conv: Conversation | None, _config: BridgeConfig, _url: str) -> str:
    where = f"mailbox {conv.mailbox_id}" if conv else "its mailbox"
    return f"{where} has no {FIELD_GITHUB_ISSUE_URL} custom field; add it, then run sync again"


def _state(conv: Conversation | None, _config: BridgeConfig, _url: str) -> str:
    return (
        f"it is a {conv.state or 'non-published'} conversation, not a published one"
        if conv
        else ("it is not published")
    )


def _fixed(text: str) -> Explainer:
    return lambda _conv, _config, _url: text


def _with_url(template: str) -> Explainer:
    return lambda _conv, _config, url: template.format(url=url or "(unknown)")


def _before_cutoff(conv: Conversation | None, config: BridgeConfig, _url: str) -> str:
    created = conv.created_at if conv and conv.created_at else "before the cut-off"
    cutoff = config.cutoff(datetime.now(UTC))
    limit = f" {stamp(cutoff)}" if cutoff else ""
    return (
        f"it was created {created}, before the cut-off{limit} ([autolink] link_since / max_age_days): "
        "webhooks and the sweep leave it alone; freescout-bridge sync ID links it on request"
    )


REASONS: dict[str, Explainer] = {
    CUTOFF_REASON: _before_cutoff,
    "no_trigger_tag": _no_trigger,
    "mailbox_not_configured": _mailbox,
    "field_missing_in_mailbox": _field_missing,
    "not_published": _state,
    "deleted": _fixed("it is in Deleted"),
    "spam": _fixed("it is marked as spam"),
    "from_github": _fixed(
        f"it carries the {TAG_FROM_GITHUB} tag: it was filed from GitHub, linking it would loop"
    ),
    "already_linked": _with_url(f"{FIELD_GITHUB_ISSUE_URL} is already set to {{url}}"),
    "note_missing": _with_url(f"{FIELD_GITHUB_ISSUE_URL} is {{url}} but the bot's internal note is missing"),
    "linked_elsewhere": _with_url(f"{FIELD_GITHUB_ISSUE_URL} points at another repository: {{url}}"),
    "closed": _with_url("the conversation is closed; its issue is {url}"),
    "already_commented": _with_url("the closing comment is already on {url}"),
    "no_longer_closed": _fixed("it was reopened before the closing comment"),
    "not_linked": _fixed("it is closed but has no linked issue"),
    "closed_without_timestamp": _fixed("it is closed but FreeScout gave no closedAt"),
    "unsupported_event": _fixed("the event is not one the bridge handles"),
    "own_write_echo": _fixed("the newest thread is the bot's own write"),
}


def reason_sentence(reason: str, conv: Conversation | None, config: BridgeConfig, url: str = "") -> str:
    """The human sentence for a decision reason (``tag:bug``, ``no_trigger_tag``, ...)."""
    kind, _, value = reason.partition(":")
    if kind == "tag" and value:
        return f"it carries the tag {value}"
    if kind == "keyword" and value:
        return f"its subject or first message contains {value!r}"
    explain = REASONS.get(reason)
    return explain(conv, config, url) if explain else reason.replace("_", " ")


def label(conversation_id: int, conv: Conversation | None) -> str:
    if conv is None or conv.number == conversation_id:
        return f"#{conversation_id}"
    return f"#{conv.number} (id {conversation_id})"


def outcome_line(
    conversation_id: int,
    outcome: Outcome,
    conv: Conversation | None,
    config: BridgeConfig,
    *,
    dry_run: bool,
) -> str:
    """``#1287 not linked: no_trigger_tag — it has none of the tags bug, feature_request, auto:status``."""
    verdict = VERDICTS.get(outcome.decision, outcome.decision.replace("_", " "))
    if outcome.decision == "ignore":
        verdict = IGNORED_BECAUSE.get(outcome.reason, verdict)
    url = outcome.issue_url or (conv.github_issue_url if conv else "")
    line = f"{label(conversation_id, conv)} {verdict}: {outcome.reason} — "
    line += reason_sentence(outcome.reason, conv, config, url)
    if outcome.writes:
        line += "; " + ", ".join(WRITES.get(w, w) for w in outcome.writes)
    would = WOULD_DO.get(outcome.decision)
    if would:
        why = "dry run" if dry_run else "autolink is off: shadow mode"
        line += f"; nothing written ({why}); a live run would {would}"
    if outcome.issue_url and outcome.issue_url not in line:
        line += f" → {outcome.issue_url}"
    return line
