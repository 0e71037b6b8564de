"""Configuration and the shared context of the local FreeScout simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox import freescout_render as render
from sandbox.asgi import RequestLog
from sandbox.freescout_model import (
    Clock,
    Conversation,
    Customer,
    CustomField,
    Mailbox,
    Thread,
    User,
    utc_now,
)
from sandbox.freescout_store import FreeScoutStore
from sandbox.freescout_webhooks import WebhookHub

DEFAULT_RETRY_DELAYS = (0.2, 0.4, 0.8, 1.2, 1.6, 2.0, 2.4, 2.8, 3.2)


@dataclass(frozen=True)
class FreeScoutSimConfig:
    """Settings of the local FreeScout simulator.

    ``retry_delays`` compresses the real schedule (about 1, 2, 4, 6, ... 16 minutes between
    the 10 attempts) into seconds; attempts = 1 + len(retry_delays). ``delivery_timeout``
    is the per-request webhook timeout (30 s like FreeScout). ``undo_delay`` holds back
    ``convo.agent.reply.created`` and agent-created ``convo.created`` like the 15 s undo
    window (0 by default to keep tests fast). ``clock`` supplies "now" for timestamps.
    """

    api_key: str = "fs-sim-api-key-0123456789abcdef"
    webhook_secret: str = "0123456789abcdef0123456789abcdef"  # noqa: S105 - public test value
    bot_user_id: int = 9
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    seed_demo: bool = True
    delivery_timeout: float = 30.0
    undo_delay: float = 0.0
    clock: Clock = field(default=utc_now)


class FreeScoutSim:
    """Store + webhook hub + request log, shared by the API and control-plane routes."""

    def __init__(self, config: FreeScoutSimConfig) -> None:
        self.config = config
        self.requests = RequestLog()
        self.store = FreeScoutStore(config.clock)
        self.hub = WebhookHub(
            config.webhook_secret,
            config.retry_delays,
            config.delivery_timeout,
            config.undo_delay,
            self.render_entity,
        )
        if config.seed_demo:
            seed_demo(self.store, config.bot_user_id)

    def reset(self) -> None:
        self.store = FreeScoutStore(self.config.clock)
        if self.config.seed_demo:
            seed_demo(self.store, self.config.bot_user_id)
        self.hub.reset()
        self.requests.clear()

    def render_entity(self, kind: str, entity_id: int) -> dict[str, Any] | None:
        """Webhook body builder, run when a delivery job first runs."""
        if kind == "conversation":
            conv = self.store.conversations.get(entity_id)
            return render.conversation(self.store, conv) if conv else None
        customer = self.store.customers.get(entity_id)
        return render.customer_full(self.store, customer) if customer else None

    # -- events ------------------------------------------------------------------------
    def emit(self, event: str, conv: Conversation, *, undo: bool = False) -> None:
        self.hub.fire(event, "conversation", conv.id, conv.mailbox_id, undo=undo)

    def emit_customer_created(self, customer: Customer) -> None:
        self.hub.fire("customer.created", "customer", customer.id)

    def emit_thread(self, conv: Conversation, thread: Thread, *, first: bool) -> None:
        """The events FreeScout raises for a new thread (API or UI)."""
        by_user = thread.created_by[0] == "user"
        if first:
            self.emit("convo.created", conv, undo=by_user)
        elif thread.type == "note":
            self.emit("convo.note.created", conv)
        elif thread.type == "customer":
            self.emit("convo.customer.reply.created", conv)
        else:
            self.emit("convo.agent.reply.created", conv, undo=True)

    def state_dump(self) -> dict[str, Any]:
        s = self.store
        return {
            "users": [render.user_full(u) for u in s.users.values()],
            "customers": [render.customer_full(s, c) for c in s.customers.values()],
            "mailboxes": [
                {
                    **render.mailbox(m),
                    "customFields": [render.field_structure(f) for f in s.mailbox_fields(m.id)],
                }
                for m in s.mailboxes.values()
            ],
            "tags": [render.tag_full(s, t) for t in s.tags.values()],
            "conversations": [render.conversation(s, c, tags=True) for c in s.conversations.values()],
            "webhooks": [h.to_json() for h in self.hub.webhooks.values()],
            "pendingDeliveries": self.hub.pending(),
        }


def seed_demo(store: FreeScoutStore, bot_user_id: int) -> None:
    """Users 1 (admin), 3 (agent) and the bot; mailboxes 1-3; per-mailbox custom fields."""
    for user in (
        User(1, "Ada", "Admin", "admin@example.com", role="admin"),
        User(3, "Alex", "Rivera", "alex@example.com"),
        User(bot_user_id, "Issue", "Bot", "issue-bot@example.com"),
    ):
        user.created_at = store.now()
        store.users[user.id] = user
    for mailbox in (
        Mailbox(1, "Ops", "ops@example.com"),
        Mailbox(2, "Support", "support@example.com"),
        Mailbox(3, "Sales", "sales@example.com"),
    ):
        mailbox.created_at = store.now()
        store.mailboxes[mailbox.id] = mailbox
    for cf in (
        CustomField(7, 2, "github_issue_url", sort_order=1),
        CustomField(12, 1, "github_issue_url", sort_order=1),
        CustomField(
            13, 1, "Priority", type="dropdown", options={"1": "Low", "2": "Normal", "3": "High"}, sort_order=2
        ),
    ):
        store.fields[cf.id] = cf
