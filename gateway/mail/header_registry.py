"""A HeaderRegistry that builds each header class once.

The stock registry creates a new class with type() on every header it parses or stores; that was
about a tenth of the CPU of ingesting a mail (parsing its headers, composing the acknowledgement).
"""
from __future__ import annotations

from email.headerregistry import HeaderRegistry


class CachedHeaderRegistry(HeaderRegistry):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._classes: dict[str, type] = {}

    def map_to_type(self, name, cls):
        super().map_to_type(name, cls)
        self._classes.clear()

    def __getitem__(self, name):
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(name)
        return found
