"""Turn local FreeScout simulator entities into the module's camelCase JSON shapes.

Shapes follow docs/upstream/freescout.md section 2 (webhook body = ``GET`` without embed)
and the list/entity shapes of section 4. Key order matches the module's output.
"""

from __future__ import annotations

from typing import Any

from sandbox.freescout_model import (
    Conversation,
    Customer,
    CustomField,
    Mailbox,
    PersonRef,
    Tag,
    Thread,
    User,
    fmt_time,
)
from sandbox.freescout_store import FreeScoutStore

JSON = dict[str, Any]


def person(entity: User | Customer | None) -> JSON | None:
    """The short Person form used inside conversations and threads."""
    if entity is None:
        return None
    kind = "user" if isinstance(entity, User) else "customer"
    return {
        "id": entity.id,
        "type": kind,
        "firstName": entity.first_name,
        "lastName": entity.last_name,
        "photoUrl": "",
        "email": entity.email,
    }


def _ref(store: FreeScoutStore, ref: PersonRef | None) -> JSON | None:
    return person(store.person(ref)) if ref else None


def _friendly(store: FreeScoutStore, conv: Conversation) -> str:
    if conv.last_reply_at is None:
        return ""
    minutes = max(1, int((store.now() - conv.last_reply_at).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes > 1 else ''} ago"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours > 1 else ''} ago" if hours < 24 else f"{hours // 24} days ago"


def thread(store: FreeScoutStore, t: Thread) -> JSON:
    return {
        "id": t.id,
        "type": t.type,
        "status": t.status,
        "state": t.state,
        "action": {"type": t.action_type, "text": t.action_text, "associatedEntities": []},
        "body": t.body,
        "source": {"type": t.source_type, "via": t.source_via},
        "customer": person(store.customers.get(t.customer_id)) if t.customer_id else None,
        "createdBy": _ref(store, t.created_by),
        "assignedTo": person(store.users.get(t.assigned_to)) if t.assigned_to else None,
        "to": list(t.to),
        "cc": list(t.cc),
        "bcc": list(t.bcc),
        "createdAt": fmt_time(t.created_at),
        "openedAt": None,
        "_embedded": {"attachments": []},
    }


def custom_field_values(store: FreeScoutStore, conv: Conversation) -> list[JSON]:
    out = []
    for cf in store.mailbox_fields(conv.mailbox_id):
        value = conv.custom_values.get(cf.id, "")
        text = cf.options.get(value, "") if isinstance(cf.options, dict) else ""
        out.append({"id": cf.id, "name": cf.name, "value": value, "text": text})
    return out


def listed_threads(conv: Conversation) -> list[Thread]:
    """Threads in FreeScout's order: ``created_at`` descending only, at one-second resolution, so threads
    of the same second come oldest first (id order), as a real 1.8.159 lists them."""
    return sorted(conv.published_threads(), key=lambda t: (-int(t.created_at.timestamp()), t.id))


def conversation(
    store: FreeScoutStore, conv: Conversation, *, threads: bool = True, tags: bool = False
) -> JSON:
    """The Conversation object; ``threads``/``tags`` mirror the ``embed`` semantics."""
    closed = conv.status == "closed"
    closer = store.users.get(conv.closed_by) if closed and conv.closed_by else None
    embedded: JSON = {"threads": [thread(store, t) for t in listed_threads(conv)] if threads else []}
    if tags:
        embedded["tags"] = [{"id": t.id, "name": t.name} for t in (store.tags[i] for i in conv.tag_ids)]
    result: JSON = {
        "id": conv.id,
        "number": conv.number,
        "threadsCount": len(conv.threads),
        "type": conv.type,
        "folderId": conv.folder_id(),
        "status": conv.status,
        "state": conv.state,
        "subject": conv.subject or "",
        "preview": conv.preview,
        "mailboxId": conv.mailbox_id,
        "assignee": person(store.users.get(conv.assignee_id)) if conv.assignee_id else None,
        "createdBy": _ref(store, conv.created_by),
        "createdAt": fmt_time(conv.created_at),
        "updatedAt": fmt_time(conv.updated_at),
        "closedBy": conv.closed_by if closed else None,
        "closedByUser": person(closer),
        "closedAt": fmt_time(conv.closed_at) if closed else None,
        "userUpdatedAt": fmt_time(conv.user_updated_at),
        "customerWaitingSince": {
            "time": fmt_time(conv.last_reply_at),
            "friendly": _friendly(store, conv),
            "latestReplyFrom": conv.last_reply_from,
        },
        "source": {"type": conv.source_type, "via": conv.created_by[0]},
        "cc": list(conv.cc),
        "bcc": list(conv.bcc),
        "customer": person(store.customers.get(conv.customer_id)),
        "_embedded": embedded,
    }
    values = custom_field_values(store, conv)
    if values:
        result["customFields"] = values
    return result


def customer_full(store: FreeScoutStore, c: Customer) -> JSON:
    emails = [{"id": c.id, "value": c.email, "type": "work"}] if c.email else []
    return {
        "id": c.id,
        "firstName": c.first_name,
        "lastName": c.last_name,
        "jobTitle": None,
        "company": None,
        "photoType": "unknown",
        "photoUrl": "",
        "createdAt": fmt_time(c.created_at),
        "updatedAt": fmt_time(c.created_at),
        "notes": None,
        "_embedded": {
            "emails": emails,
            "phones": [],
            "social_profiles": [],
            "websites": [],
            "address": {"city": None, "state": None, "zip": None, "country": None, "address": None},
        },
    }


def user_full(u: User) -> JSON:
    return {
        "id": u.id,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "email": u.email,
        "role": u.role,
        "alternateEmails": "",
        "jobTitle": u.job_title,
        "phone": "",
        "timezone": "UTC",
        "photoUrl": "",
        "language": "en",
        "createdAt": fmt_time(u.created_at),
        "updatedAt": fmt_time(u.created_at),
    }


def mailbox(m: Mailbox) -> JSON:
    ts = fmt_time(m.created_at)
    return {"id": m.id, "name": m.name, "email": m.email, "createdAt": ts, "updatedAt": ts}


def field_structure(cf: CustomField) -> JSON:
    return {
        "id": cf.id,
        "name": cf.name,
        "type": cf.type,
        "options": cf.options,
        "required": cf.required,
        "sortOrder": cf.sort_order,
    }


def tag_full(store: FreeScoutStore, t: Tag) -> JSON:
    return {"id": t.id, "name": t.name, "counter": store.tag_counter(t), "color": t.color}


def page(items_key: str, items: list[JSON], *, number: int, size: int, total: int) -> JSON:
    """HAL list: ``_embedded.<key>`` plus the ``page`` block (``totalPages`` ≥ 1)."""
    total_pages = max(1, -(-total // size)) if size > 0 else 1
    return {
        "_embedded": {items_key: items},
        "page": {"size": size, "totalElements": total, "totalPages": total_pages, "number": number},
    }
