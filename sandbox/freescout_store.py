"""In-memory state of the local FreeScout simulator, with its domain operations.

Pure: no HTTP and no webhooks here. Every operation mutates the store and returns what
happened; the API and control-plane layers turn that into responses and webhook events.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.freescout_model import (
    TAG_NAME_MAX,
    Clock,
    Conversation,
    Customer,
    CustomField,
    Mailbox,
    PersonRef,
    StoreError,
    Tag,
    Thread,
    User,
    as_int,
    field_value,
    normalize_tag,
    text_preview,
    utc_now,
)


class FreeScoutStore:
    """All simulator state. Ids come from counters, times from the injected clock."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.users: dict[int, User] = {}
        self.customers: dict[int, Customer] = {}
        self.mailboxes: dict[int, Mailbox] = {}
        self.fields: dict[int, CustomField] = {}
        self.tags: dict[int, Tag] = {}
        self.conversations: dict[int, Conversation] = {}
        self._next = {"customer": 300, "conversation": 1001, "thread": 5001, "tag": 1, "user": 100}

    def next_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind] - 1

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    # -- people -----------------------------------------------------------------------
    def customer_by_email(self, email: str) -> Customer | None:
        wanted = email.strip().lower()
        return next((c for c in self.customers.values() if (c.email or "").lower() == wanted), None)

    def create_customer(self, email: str | None, first: str | None, last: str | None) -> Customer:
        if not email and not first:
            raise StoreError("Customer first name or email is required.", "customer.first_name")
        customer = Customer(self.next_id("customer"), first, last, email, created_at=self.now())
        self.customers[customer.id] = customer
        return customer

    def resolve_customer(self, spec: object) -> tuple[Customer, bool]:
        """``{id}`` or ``{email, firstName?, lastName?}``; returns (customer, created)."""
        data = spec[0] if isinstance(spec, list) and spec and isinstance(spec[0], dict) else spec
        data = data if isinstance(data, dict) else {}
        if data.get("id"):
            found = self.customers.get(as_int(data["id"]))
            if found is None:
                raise StoreError(f"Customer with the following ID not found: {data['id']}", "customer")
            return found, False
        email = data.get("email")
        if isinstance(email, str) and (found := self.customer_by_email(email)) is not None:
            return found, False
        first, last = data.get("firstName"), data.get("lastName")
        created = self.create_customer(
            email if isinstance(email, str) else None,
            first if isinstance(first, str) else None,
            last if isinstance(last, str) else None,
        )
        return created, True

    def person(self, ref: PersonRef) -> User | Customer | None:
        kind, pid = ref
        return self.users.get(pid) if kind == "user" else self.customers.get(pid)

    # -- conversations ----------------------------------------------------------------
    def open_conversation(
        self,
        *,
        mailbox_id: int,
        subject: str,
        customer: Customer,
        ctype: str,
        source_type: str,
        status: str = "active",
        assignee_id: int | None = None,
        imported: bool = False,
        created_at: datetime | None = None,
    ) -> Conversation:
        now = created_at or self.now()
        conv_id = self.next_id("conversation")
        conv = Conversation(
            id=conv_id,
            number=conv_id,
            type=ctype,
            mailbox_id=mailbox_id,
            subject=subject,
            customer_id=customer.id,
            created_by=("customer", customer.id),
            source_type=source_type,
            status=status,
            assignee_id=assignee_id,
            imported=imported,
            created_at=now,
            updated_at=now,
        )
        self.conversations[conv.id] = conv
        return conv

    def add_thread(
        self,
        conv: Conversation,
        *,
        ttype: str,
        body: str | None,
        author: PersonRef,
        source_type: str,
        status: str | None = None,
        customer_id: int | None = None,
        state: str = "published",
        cc: list[str] | None = None,
        bcc: list[str] | None = None,
        to: list[str] | None = None,
        created_at: datetime | None = None,
    ) -> Thread:
        """Add a customer/message/note thread and apply FreeScout's status rules."""
        now = created_at or self.now()
        first = not conv.threads
        if ttype == "note":
            if status:
                self._set_status(conv, status, author, now)
        else:
            conv.last_reply_at = now
            conv.last_reply_from = author[0]
            default = "active" if ttype == "customer" else "pending"
            self._set_status(conv, status or default, author, now)
            if ttype == "customer" and conv.state == "deleted":
                conv.state = "published"
            conv.preview = text_preview(body)
        if author[0] == "user":
            conv.user_updated_at = now
        if first:
            conv.created_by = author
        cust_id = customer_id or conv.customer_id
        if to is None:
            to = [] if ttype == "customer" else [e for e in [self._customer_email(cust_id)] if e]
        thread = Thread(
            id=self.next_id("thread"),
            type=ttype,
            status=conv.status,
            body=body,
            created_by=author,
            customer_id=cust_id,
            source_type=source_type,
            action_text=self._action_text(ttype, author, first),
            state=state,
            assigned_to=conv.assignee_id,
            to=to,
            cc=list(cc or []),
            bcc=list(bcc or []),
            created_at=now,
        )
        conv.threads.append(thread)
        if cc:
            conv.cc = list(cc)
        if bcc:
            conv.bcc = list(bcc)
        conv.customer_id = cust_id
        conv.updated_at = now
        return thread

    def change_status(self, conv: Conversation, status: str, user: User, source_type: str) -> bool:
        """Status control in the UI or API ``PUT``: a lineitem thread; False if unchanged."""
        if conv.status == status:
            return False
        now = self.now()
        self._set_status(conv, status, ("user", user.id), now)
        conv.user_updated_at = now
        label = status.capitalize()
        self._lineitem(
            conv, "changed-ticket-status", f"{user.name} marked as {label}", user, source_type, now
        )
        return True

    def assign(self, conv: Conversation, assignee: User | None, by: User, source_type: str) -> bool:
        new_id = assignee.id if assignee else None
        if conv.assignee_id == new_id:
            return False
        now = self.now()
        conv.assignee_id = new_id
        conv.user_updated_at = now
        text = f"{by.name} assigned to {assignee.name}" if assignee else f"{by.name} unassigned"
        self._lineitem(conv, "changed-ticket-assignee", text, by, source_type, now)
        return True

    def move(self, conv: Conversation, mailbox: Mailbox, by: User, source_type: str) -> bool:
        if conv.mailbox_id == mailbox.id:
            return False
        old = self.mailboxes.get(conv.mailbox_id)
        now = self.now()
        conv.mailbox_id = mailbox.id
        conv.user_updated_at = now
        text = f"{by.name} moved conversation from {old.name if old else 'another mailbox'}"
        self._lineitem(conv, "moved-from-mailbox", text, by, source_type, now)
        return True

    def delete(self, conv: Conversation, by: User) -> None:
        conv.state = "deleted"
        conv.updated_at = self.now()

    def set_custom_fields(self, conv: Conversation, entries: object) -> int:
        """Write listed values; skip entries without id/value and unknown ids. Returns writes."""
        written = 0
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("id") is None or entry.get("value") is None:
                continue
            cf = self.fields.get(as_int(entry["id"]))
            value = field_value(cf, entry["value"]) if cf else None
            if cf is None or value is None or conv.custom_values.get(cf.id) == value:
                continue
            conv.custom_values[cf.id] = value
            written += 1
        return written

    def set_tags(self, conv: Conversation, names: list[object]) -> None:
        """Full replacement by name; names normalised; missing tags created."""
        wanted: list[int] = []
        for raw in names:
            if isinstance(raw, list | dict):
                continue
            name = normalize_tag(raw)
            if not name:
                continue
            if len(name) > TAG_NAME_MAX:
                raise ValueError("tag name too long for the tags.name column")
            tag = self.tag_by_name(name) or self._create_tag(name)
            if tag.id not in wanted:
                wanted.append(tag.id)
        conv.tag_ids = wanted

    def tag_by_name(self, name: str) -> Tag | None:
        return next((t for t in self.tags.values() if t.name == name), None)

    def tag_counter(self, tag: Tag) -> int:
        return sum(1 for c in self.conversations.values() if tag.id in c.tag_ids)

    def mailbox_fields(self, mailbox_id: int) -> list[CustomField]:
        return sorted(
            (f for f in self.fields.values() if f.mailbox_id == mailbox_id), key=lambda f: f.sort_order
        )

    # -- internals --------------------------------------------------------------------
    def _create_tag(self, name: str) -> Tag:
        tag = Tag(self.next_id("tag"), name)
        self.tags[tag.id] = tag
        return tag

    def _customer_email(self, customer_id: int | None) -> str | None:
        customer = self.customers.get(customer_id) if customer_id else None
        return customer.email if customer else None

    def _set_status(self, conv: Conversation, status: str, actor: PersonRef, now: datetime) -> None:
        if status == conv.status:
            return
        conv.status = status
        if status == "closed":
            conv.closed_at = now
            conv.closed_by = actor[1] if actor[0] == "user" else None
        conv.updated_at = now

    def _lineitem(
        self, conv: Conversation, action: str, text: str, user: User, source: str, now: datetime
    ) -> None:
        conv.threads.append(
            Thread(
                id=self.next_id("thread"),
                type="lineitem",
                status=conv.status,
                body=None,
                created_by=("user", user.id),
                customer_id=conv.customer_id,
                source_type=source,
                action_type=action,
                action_text=text,
                assigned_to=conv.assignee_id,
                created_at=now,
            )
        )
        conv.updated_at = now

    def _action_text(self, ttype: str, author: PersonRef, first: bool) -> str:
        who = self.person(author)
        name = who.name if who else "Someone"
        if first and ttype == "customer":
            return f"{name} started a new conversation"
        if first:
            return f"{name} created a new conversation"
        return {"note": f"{name} added a note", "message": f"{name} replied"}.get(ttype, f"{name} replied")
