"""PHP ``json_encode`` (default flags) for the local FreeScout simulator.

FreeScout builds webhook bodies with ``json_encode($data)``: compact separators, ``/``
written as ``\\/``, every non-ASCII character as a lowercase ``\\uXXXX`` escape (astral
characters as a surrogate pair), control characters as ``\\b \\f \\n \\r \\t`` or
``\\u00XX``. DEL (0x7f) and ``< > & '`` pass through unescaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

_SHORT = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _escape_char(ch: str) -> str:
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if 0x20 <= code < 0x80:
        return ch
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def encode_string(value: str) -> str:
    """One JSON string literal, escaped like PHP's default ``json_encode``."""
    return '"' + "".join(_escape_char(ch) for ch in value) + '"'


def _encode(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return encode_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if ("." in text or "e" in text or "n" in text) else text + ".0"
    if isinstance(value, Mapping):
        items = (encode_string(str(k)) + ":" + _encode(v) for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"phpjson cannot encode {type(value).__name__}")


def dumps(value: object) -> str:
    """Encode ``value`` exactly as PHP ``json_encode`` with default flags would."""
    return _encode(value)


def dumps_bytes(value: object) -> bytes:
    """:func:`dumps` as the UTF-8 (in practice pure ASCII) bytes sent on the wire."""
    return dumps(value).encode("ascii")
