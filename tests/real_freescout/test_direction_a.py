"""Direction A end to end on a real FreeScout: its own webhooks, its own API, the bridge as a process.

Each test drives FreeScout as its users would (a customer writes in through the API, an agent tags,
notes and closes), runs FreeScout's queue so the webhooks go out, and asserts what FreeScout and the
GitHub simulator hold afterwards. A webhook is answered only after the bridge has acted, so a drained
queue means the bridge is done.
"""

from __future__ import annotations

import pytest

from tests.real_freescout.lane import Lane

pytestmark = pytest.mark.real_freescout


def linked(lane: Lane, conversation_id: int) -> str:
    """The one issue of this conversation, with the field and one bot note naming it."""
    (issue,) = lane.issues_for(conversation_id)
    url = str(issue["html_url"])
    assert lane.field_value(conversation_id) == url
    notes = lane.bot_notes(conversation_id)
    assert len(notes) == 1 and url in notes[0]["body"]
    return url


def test_tagged_conversation_gets_one_issue_the_field_and_one_note(lane: Lane) -> None:
    conversation = lane.customer_writes_in(tags=["bug"])
    lane.fs.drain()  # convo.created reaches the bridge, which reads tags from the API and links
    linked(lane, conversation)
    (issue,) = lane.issues_for(conversation)
    assert {label["name"] for label in issue["labels"]} >= {"freescout-linked", "bug"}
    outcomes = [(d["event"], d["outcome"]) for d in lane.bridge.deliveries_for(conversation)]
    assert ("convo.created", "linked") in outcomes, outcomes


def test_own_writes_echo_back_and_change_nothing(lane: Lane) -> None:
    conversation = lane.customer_writes_in(tags=["bug"])
    lane.fs.drain()
    url = linked(lane, conversation)
    writes = lane.gh_writes()
    threads = len(lane.conversation(conversation)["_embedded"]["threads"])
    lane.fs.drain()  # nothing left: the echo of the bot's note was already sent in the same drain
    echoes = [d for d in lane.bridge.deliveries_for(conversation) if d["event"] == "convo.note.created"]
    assert echoes, "FreeScout echoes the bot's own note as convo.note.created"
    assert all(d["outcome"] != "linked" for d in echoes), echoes
    assert lane.gh_writes() == writes
    assert len(lane.conversation(conversation)["_embedded"]["threads"]) == threads
    assert linked(lane, conversation) == url


def test_untagged_conversation_is_left_alone(lane: Lane) -> None:
    conversation = lane.customer_writes_in(tags=[])
    lane.fs.drain()
    assert lane.issues_for(conversation) == []
    assert lane.field_value(conversation) == ""
    assert [d["outcome"] for d in lane.bridge.deliveries_for(conversation)] == ["ignore"]


def test_tagged_conversation_outside_the_handled_mailboxes_is_left_alone(lane: Lane) -> None:
    conversation = lane.customer_writes_in(mailbox="ops", tags=["bug"])
    lane.fs.drain()
    assert lane.issues_for(conversation) == []
    assert [d["reason"] for d in lane.bridge.deliveries_for(conversation)] == ["mailbox_not_configured"]


def test_tag_added_after_creation_fires_nothing_and_the_next_event_links_it(lane: Lane) -> None:
    conversation = lane.customer_writes_in(tags=[])
    lane.fs.drain()
    assert lane.issues_for(conversation) == []
    lane.set_tags(conversation, ["bug"])
    assert lane.fs.pending_jobs() == 0, "a tag edit queues no webhook"
    lane.agent_note(conversation)
    lane.fs.drain()  # convo.note.created: the bridge re-reads the conversation and finds the tag
    linked(lane, conversation)
    events = [(d["event"], d["outcome"]) for d in lane.bridge.deliveries_for(conversation)]
    assert ("convo.note.created", "linked") in events, events


def test_tag_added_after_creation_is_linked_by_the_sweep(lane: Lane) -> None:
    conversation = lane.customer_writes_in(tags=[])
    lane.fs.drain()
    lane.set_tags(conversation, ["feature_request"])
    report = lane.sweep()
    assert report.returncode == 0, report.stdout + report.stderr
    assert len(lane.issues_for(conversation)) == 1, report.stdout + report.stderr
    url = linked(lane, conversation)
    assert url in report.stdout
    (issue,) = lane.issues_for(conversation)
    assert "enhancement" in {label["name"] for label in issue["labels"]}
    lane.fs.drain()  # the bot's note echoes; it changes nothing
    assert len(lane.issues_for(conversation)) == 1


def test_closing_the_conversation_comments_once(lane: Lane) -> None:
    conversation = lane.customer_writes_in(tags=["bug"])
    lane.fs.drain()
    linked(lane, conversation)
    (issue,) = lane.issues_for(conversation)
    lane.agent_sets_status(conversation, "closed")
    lane.fs.drain()
    lane.agent_note(conversation, "<p>Closed, thanks.</p>")  # a later event on the closed ticket
    lane.fs.drain()
    comments = lane.gh.comments(int(issue["number"]))
    closing = [c for c in comments if f"#{conversation}" in c and "resolved" in c]
    assert len(closing) == 1, comments
    assert lane.gh.issue(int(issue["number"]))["state"] == "open", "the bridge never closes the issue"
