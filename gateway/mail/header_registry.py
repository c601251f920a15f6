"""A HeaderRegistry that builds each header class once, each header once, and folds each header once.

The stock registry creates a new class with type() on every header it parses or stores, parses a
value anew every time it is read (a mail's Content-Type was parsed nine times on the way in), and
refolds every header each time a mail is written out. Header objects are immutable, so one parse
of a (name, value) pair serves every reader, and one fold per policy serves every writer.
"""
from __future__ import annotations

import functools
from email.headerregistry import BaseHeader, HeaderRegistry

# Headers kept parsed: the values recurring within one mail and across mails (Content-Type,
# MIME-Version, our own From) hit; a header longer than this is rare and parsed each time.
CACHE_ENTRIES = 2048
CACHE_VALUE_CHARS = 512


class FoldOnceHeader(BaseHeader):
    """BaseHeader whose fold is computed once per policy (the header and the policy never change)."""

    def fold(self, *, policy):
        memo = self.__dict__.get("_folded")
        if memo is not None and memo[0] is policy:
            return memo[1]
        folded = super().fold(policy=policy)
        self._folded = (policy, folded)
        return folded


class CachedHeaderRegistry(HeaderRegistry):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("base_class", FoldOnceHeader)
        super().__init__(*args, **kwargs)
        self._classes: dict[str, type] = {}
        self._parsed = functools.lru_cache(maxsize=CACHE_ENTRIES)(super().__call__)

    def map_to_type(self, name, cls):
        super().map_to_type(name, cls)
        self._classes.clear()
        self._parsed.cache_clear()

    def __getitem__(self, name):
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(name)
        return found

    def __call__(self, name, value):
        if type(value) is not str or len(value) > CACHE_VALUE_CHARS:  # Address, datetime, long values
            return super().__call__(name, value)
        return self._parsed(name, value)
