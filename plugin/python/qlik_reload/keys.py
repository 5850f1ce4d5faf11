"""Idempotency keys: the same engine step (run + task + map index) always gets
the same key, so that a retried step re-attaches to the reload it started
instead of starting a second one (the worker keeps keys >= 24 h)."""
import hashlib
from typing import Any

#: The worker refuses longer keys (plugin/worker/handler.h).
MAX_KEY_BYTES = 256


def make_idempotency_key(engine: str, *parts: Any) -> str:
    """``engine:part1:part2:...``; when that is too long for the worker, a
    readable prefix plus a SHA-256 of the whole. Control characters become '?'."""
    text = ":".join([engine] + ["" if p is None else str(p) for p in parts])
    text = "".join(ch if ch >= " " and ch != "\x7f" else "?" for ch in text)
    if len(text.encode("utf-8")) <= MAX_KEY_BYTES:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    prefix = text.encode("utf-8")[: MAX_KEY_BYTES - len(digest) - 1].decode("utf-8", "ignore")
    return prefix + "#" + digest


__all__ = ["make_idempotency_key", "MAX_KEY_BYTES"]
