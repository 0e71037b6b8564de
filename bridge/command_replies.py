"""The bridge's replies to note commands, one template per outcome, in one place. Pure.

Each reply is an internal note carrying the hidden ``command:THREAD`` key. No line of a reply starts with
``#github``, so even a reply read back as a note could never command anything.
"""

from __future__ import annotations

from collections.abc import Mapping

from bridge.return_path_render import esc, link, note

_SYNTAX = "<code>#github link acme/app#412</code>, <code>#github link #412</code> or the issue's URL"
_HEARS = (
    "This ticket hears here when the issue is closed or reopened, and of comments starting with /support."
)

#: reason → template; ``{ref}``, ``{issue}``, ``{old}``, ``{detail}``, ``{repository}`` are filled escaped.
TEMPLATES: Mapping[str, str] = {
    "linked": "Linked to GitHub issue {issue}. " + _HEARS,
    "relinked": "Linked to GitHub issue {issue} (was {old}). " + _HEARS,
    "unlinked": "Unlinked: this ticket no longer waits on a GitHub issue{was}. Its tags will not link it "
    "again; a note <code>#github link</code> will.",
    "not_linked": "This ticket is not linked to a GitHub issue: nothing to unlink.",
    "linked_elsewhere": "Not linked: this ticket already waits on {old}. To move it to {ref}, write "
    "<code>#github relink {ref}</code>; to remove the link, <code>#github unlink</code>.",
    "other_repository": "Not linked: {ref} is in another repository. This bridge links issues of "
    "{repository} only.",
    "closed": "Not linked: {issue} is closed. Reopen it on GitHub first, or link an open issue.",
    "pull_request": "Not linked: {ref} is a pull request. Link the issue it fixes instead.",
    "not_found": "Not linked: there is no issue {ref} (or the bridge cannot see it).",
    "bad_ref": "Not linked: “{detail}” is not an issue reference. Write " + _SYNTAX + ".",
    "missing_ref": "Not done: <code>#github {detail}</code> needs an issue, e.g. " + _SYNTAX + ".",
    "unknown_verb": "Not done: “{detail}” is not a command. The commands are <code>#github link REF</code>, "
    "<code>#github relink REF</code> and <code>#github unlink</code>.",
}


def _old(value: str) -> str:
    return link(value, value) if value else ""


def reply_html(key: str, reason: str, **values: str) -> str:
    """The reply note for ``reason``, every value escaped (they come from agents and from GitHub)."""
    url = values.get("url", "")
    ref = values.get("ref", "")
    old = values.get("old", "")
    filled = TEMPLATES[reason].format(
        ref=esc(ref),
        issue=link(url, ref) if url else esc(ref),
        old=_old(old),
        was=f" (was {_old(old)})" if old else "",
        detail=esc(values.get("detail", "")),
        repository=esc(values.get("repository", "")),
    )
    return note(key, filled)
