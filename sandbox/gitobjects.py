"""Git object ids, computed the way git does."""

from __future__ import annotations

import hashlib

__all__ = ["blob_sha", "commit_sha", "tree_sha"]


def blob_sha(content: bytes) -> str:
    """Git's blob id: ``sha1(b"blob <len>\\0" + content)``."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def commit_sha(tree: str, parent: str | None, author: str, when: float, message: str) -> str:
    """A git-style commit id over tree, parent, author, time and message."""
    lines = [f"tree {tree}"]
    if parent:
        lines.append(f"parent {parent}")
    lines += [f"author {author} {int(when)} +0000", f"committer {author} {int(when)} +0000"]
    body = ("\n".join(lines) + f"\n\n{message}\n").encode()
    return hashlib.sha1(b"commit %d\0" % len(body) + body, usedforsecurity=False).hexdigest()


def tree_sha(blobs: dict[str, str]) -> str:
    """An id for the tree of ``path → blob sha`` (flat, not git's nested tree format)."""
    listing = "".join(f"100644 {path}\0{sha}\n" for path, sha in sorted(blobs.items())).encode()
    return hashlib.sha1(b"tree %d\0" % len(listing) + listing, usedforsecurity=False).hexdigest()
