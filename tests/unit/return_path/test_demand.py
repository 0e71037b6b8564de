"""The demand comment: counts and domains by default, emails only when allowed, edited in place."""

from __future__ import annotations

import pytest

from bridge.demand import (
    Demand,
    DemandComment,
    count_demand,
    demand_comment_in,
    demand_label_wanted,
    plan_demand_comment,
    render_demand,
)
from bridge.vocab import UNLINKED, demand_marker, is_demand_comment
from tests.unit.return_path.samples import BRIDGE_LOGIN, comment, issue, ticket

ISSUE = issue("issues.reopened")
TICKETS = [
    ticket(1, email="ann@example.com"),
    ticket(2, email="Ann@Example.com", status="active"),
    ticket(3, email="bob@acme.io"),
    ticket(4, email="", status="active"),
    ticket(5, email="carl@example.com", status="closed"),
    ticket(6, email="dan@evil.test", field=UNLINKED),
    ticket(7, email="eve@spam.test", status="spam"),
    ticket(8, email="fay@gone.test", state="deleted"),
    ticket(9, email="gus@else.test", field="https://github.com/Codertocat/Hello-World/issues/2"),
]


def test_counts_waiting_tickets_and_distinct_customers() -> None:
    demand = count_demand(TICKETS, ISSUE)
    assert demand == Demand(
        waiting=4,
        customers=3,
        closed=1,
        domains=(("example.com", 2), ("acme.io", 1)),
        emails=("ann@example.com", "bob@acme.io"),
    )


def test_rendered_body_has_counts_and_domains_but_no_emails_by_default() -> None:
    body = render_demand(count_demand(TICKETS, ISSUE))
    assert is_demand_comment(body)
    assert "4 FreeScout tickets from 3 customers wait on this issue" in body
    assert "1 more linked ticket closed in FreeScout" in body
    assert "`example.com` (2)" in body and "`acme.io` (1)" in body
    assert "ann@" not in body and "bob@" not in body


def test_emails_only_when_include_customer_email() -> None:
    body = render_demand(count_demand(TICKETS, ISSUE), include_customer_email=True)
    assert "`ann@example.com`" in body and "`bob@acme.io`" in body


def test_one_ticket_reads_as_singular() -> None:
    body = render_demand(count_demand(TICKETS[:1], ISSUE))
    assert "1 FreeScout ticket from 1 customer waits on this issue" in body


def test_customer_written_domains_are_inert_on_github() -> None:
    demand = count_demand([ticket(1, email="x@[@octocat](javascript:x)"), ticket(2, email="y@a.b")], ISSUE)
    assert demand.domains == (("a.b", 1),)


@pytest.mark.parametrize(("waiting", "threshold", "wanted"), [(3, 3, True), (2, 3, False), (50, 0, False)])
def test_label_threshold(waiting: int, threshold: int, wanted: bool) -> None:
    assert demand_label_wanted(Demand(waiting, waiting, 0, (), ()), threshold) is wanted


def test_demand_comment_is_created_once_then_edited_in_place() -> None:
    body = render_demand(count_demand(TICKETS, ISSUE))
    assert plan_demand_comment([comment(1, "hi")], body) == DemandComment(None, body)
    mine = comment(5, demand_marker() + "\nold", login=BRIDGE_LOGIN)
    raced = comment(8, demand_marker() + "\nolder race", login=BRIDGE_LOGIN)
    assert plan_demand_comment([raced, mine], body, {BRIDGE_LOGIN}) == DemandComment(5, body)
    assert plan_demand_comment([comment(5, body, login=BRIDGE_LOGIN)], body, {BRIDGE_LOGIN}) is None


def test_a_forged_demand_comment_is_not_ours_when_authors_are_given() -> None:
    forged = comment(2, demand_marker() + "\nforged", login="mallory")
    assert demand_comment_in([forged], {BRIDGE_LOGIN}) is None
    assert demand_comment_in([forged]) == forged
