"""What Python's email package decodes from a raw message, in the shape the
tempmail API serves, and a comparison with what the project decoded.

Shared by tests/integration/smtp/test_mime_corpus.py (parse_message against
Python) and the whole-server test (SMTP in, HTTP API out, against Python).

Python decides the decoding (headers, charsets, transfer encodings, file
names). Which parts count as bodies follows EmailMessage.get_body() with its
default preferences ('related', 'html', 'plain'); which
count as attachments is this project's rule (documented in src/mime/parse.cpp),
because iter_attachments() does not look into nested multiparts:
every leaf part that is not a body, except the unused renderings of a
multipart/alternative; an attached message is one attachment.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from email.message import EmailMessage

MADE_UP_NAME = re.compile(r"attachment-\d+\.[a-z0-9]+")


def _unescape(text: str) -> str:
    """Raw UTF-8 in headers (RFC 6532) reaches Python as surrogate escapes."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return text


def _header_text(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header Python cannot parse at all
        return ""
    return "" if value is None else _unescape(str(value))


def _first_mailbox(msg: EmailMessage) -> tuple[str, str]:
    try:
        header = msg.get("from")
        addresses = getattr(header, "addresses", ()) if header is not None else ()
    except Exception:
        return "", ""
    for address in addresses:
        addr_spec = address.addr_spec or ""
        # Python spells a null address (a bounce's "MAILER DAEMON <>") as "<>".
        return (_unescape(address.display_name or ""),
                "" if addr_spec == "<>" else _unescape(addr_spec))
    return "", ""


def _comment_name(msg: EmailMessage) -> str:
    """The old "addr (Full Name)" form: mail readers (and GMime) show the
    comment as the name; Python's display_name leaves it empty."""
    raw = next((str(v) for k, v in msg.raw_items() if k.lower() == "from"), "")
    match = re.search(r"\(([^()]*)\)\s*$", raw)
    return match.group(1) if match else ""


def _is_attachment(part: EmailMessage) -> bool:
    return part.get_content_disposition() == "attachment"


def _attachment_parts(part: EmailMessage, bodies: set[int], depth: int = 0):
    if depth > 64:
        return
    if part.get_content_maintype() == "multipart":
        if not isinstance(part.get_payload(), list):
            return  # no usable boundary: the project shows this body as text
        alternative = part.get_content_subtype() == "alternative"
        for child in part.get_payload():
            if (alternative and child.get_content_maintype() != "multipart"
                    and not _is_attachment(child)):
                continue  # another rendering of the body, not an attachment
            yield from _attachment_parts(child, bodies, depth + 1)
        return
    if id(part) not in bodies:
        yield part


def _text(part: EmailMessage | None) -> str:
    if part is None:
        return ""
    try:
        return part.get_content()
    except Exception:  # get_content() gives up on some malformed parts
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def _bytes(part: EmailMessage) -> bytes:
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            return inner[0].as_bytes()
        return b""
    return part.get_payload(decode=True) or b""


def decode(raw: bytes) -> dict:
    """The message as the API should serve it, decoded by Python:
    {subject, from_name, from_comment_name, from_email, html (bool), content,
     text_body, html_body,
     attachments: [{name (None when the message gives none), content_type,
                    size, sha256, is_message}]}."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    from_name, from_email = _first_mailbox(msg)
    # What a reader is shown: get_body() with its default preferences
    # ('related', 'html', 'plain'); a multipart/related shows its root's body.
    body = msg.get_body()
    if body is not None and body.get_content_type() == "multipart/related":
        body = body.get_body(preferencelist=("html", "plain"))
    body_is_html = body is not None and body.get_content_type() == "text/html"
    # The other rendering: the first of its type.
    html_part = body if body_is_html else msg.get_body(preferencelist=("html",))
    text_part = (body if body is not None and not body_is_html
                 else msg.get_body(preferencelist=("plain",)))
    text_body, html_body = _text(text_part), _text(html_part)
    if (body is None and msg.get_content_maintype() == "multipart"
            and isinstance(msg.get_payload(), str)):
        # A multipart whose boundary never occurs: the project's rule is to
        # show that body as text rather than nothing (src/mime/parse.cpp).
        text_body = msg.get_payload()
    bodies = {id(p) for p in (text_part, html_part) if p is not None}
    attachments = []
    for part in _attachment_parts(msg, bodies):
        data = _bytes(part)
        attachments.append({
            "name": part.get_filename(),
            "content_type": part.get_content_type(),
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "is_message": part.get_content_maintype() == "message",
        })
    return {
        "subject": _header_text(msg, "subject"),
        "from_name": from_name,
        "from_comment_name": _comment_name(msg),
        "from_email": from_email,
        "html": body_is_html,
        "content": html_body if body_is_html else text_body,
        "text_body": text_body,
        "html_body": html_body,
        "attachments": attachments,
    }


def normalize_body(text: str) -> str:
    """LF line ends, no trailing blanks on a line, no trailing empty lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).rstrip("\n")


def normalize_header(text: str) -> str:
    """Unfolded, with runs of blanks as one space (how a reader shows it)."""
    return " ".join(text.split())


# What compare(..., ignore=...) can leave out, for a message where the two
# parsers legitimately differ in that one respect.
FIELDS = frozenset({"subject", "from", "html", "bodies", "attachments", "attachment_names"})


def compare(expected: dict, actual: dict, *, check_bodies: bool = True,
            ignore: frozenset[str] = frozenset()) -> list[str]:
    """Differences between `expected` (from decode()) and `actual` (the same
    keys, from the project: mime_dump or the HTTP API), as readable lines;
    empty when they agree. `actual` attachment names are the served names:
    a part without a name must have a made-up one (attachment-N.ext).
    Attached messages are compared by name and type only: GMime and Python
    re-serialise them differently. `ignore` names FIELDS left out."""
    unknown = set(ignore) - FIELDS
    if unknown:
        raise ValueError(f"compare() cannot ignore {sorted(unknown)}: it knows {sorted(FIELDS)}")
    problems = []
    if "subject" not in ignore and (normalize_header(expected["subject"])
                                    != normalize_header(actual["subject"])):
        problems.append(f"subject: expected {expected['subject']!r}, got {actual['subject']!r}")
    names = {normalize_header(expected["from_name"])}
    if not expected["from_name"] and expected.get("from_comment_name"):
        names.add(normalize_header(expected["from_comment_name"]))
    if "from" not in ignore and normalize_header(actual["from_name"]) not in names:
        problems.append(f"from_name: expected one of {sorted(names)!r}, "
                        f"got {actual['from_name']!r}")
    if "from" not in ignore and expected["from_email"].strip() != actual["from_email"].strip():
        problems.append(
            f"from_email: expected {expected['from_email']!r}, got {actual['from_email']!r}")
    # Which body is shown counts even when it is empty (an empty HTML part after a
    # text/plain one is shown, as in CPython's msg_08).
    if "html" not in ignore and expected["html"] != actual["html"]:
        problems.append(f"html: expected {expected['html']}, got {actual['html']}")
    keys = ("content", "text_body", "html_body") if check_bodies else ("content",)
    for key in () if "bodies" in ignore else keys:
        if key in actual and normalize_body(expected[key]) != normalize_body(actual[key]):
            problems.append(f"{key}: expected {normalize_body(expected[key])[:300]!r}, "
                            f"got {normalize_body(actual[key])[:300]!r}")
    if "attachments" in ignore:
        return problems
    want, got = expected["attachments"], actual["attachments"]
    if len(want) != len(got):
        problems.append(f"attachments: expected {len(want)} "
                        f"({[a['name'] for a in want]}), got {len(got)} "
                        f"({[a['name'] for a in got]})")
        return problems
    for i, (w, g) in enumerate(zip(want, got)):
        if w["name"] is None:
            if not MADE_UP_NAME.fullmatch(g["name"]):
                problems.append(f"attachment {i}: no name in the message, so expected a "
                                f"made-up attachment-N.ext, got {g['name']!r}")
        elif w["name"] != g["name"] and "attachment_names" not in ignore:
            problems.append(f"attachment {i}: name expected {w['name']!r}, got {g['name']!r}")
        if "content_type" in g and w["content_type"] != g["content_type"]:
            problems.append(f"attachment {i}: type expected {w['content_type']!r}, "
                            f"got {g['content_type']!r}")
        if w["is_message"]:
            continue
        if (w["size"], w["sha256"]) != (g["size"], g.get("sha256", w["sha256"])):
            problems.append(f"attachment {i} ({g['name']}): bytes differ: expected "
                            f"{w['size']} bytes sha256 {w['sha256'][:12]}, got {g['size']} "
                            f"bytes sha256 {g.get('sha256', '?')[:12]}")
    return problems
