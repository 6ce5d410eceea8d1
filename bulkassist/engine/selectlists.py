"""Select lists: the values a select-list column may hold.

Validation asks a provider for a list's options (value + label). Offline the
package's demo set answers; against a server, the client builds a
`StaticLists` from the server's JSON (see `client.py`), so the same engine
validates exactly what the server will enforce.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

Choice = tuple[str, str]  # (value, label)


class SelectLists(Protocol):
    """Anything that can answer the options of a named select list."""

    def options(self, name: str) -> list[Choice]: ...

    def names(self) -> list[str]: ...


class StaticLists:
    """Select lists held in memory: `{name: [(value, label), ...]}`."""

    def __init__(self, lists: dict[str, list[Choice]]):
        self._lists = {name: [(str(v), str(lbl)) for v, lbl in opts] for name, opts in lists.items()}

    def options(self, name: str) -> list[Choice]:
        try:
            return self._lists[name]
        except KeyError:
            raise KeyError(
                f"no select list named {name!r}; known lists: {', '.join(sorted(self._lists))}"
            ) from None

    def values(self, name: str) -> list[str]:
        return [v for v, _ in self.options(name)]

    def names(self) -> list[str]:
        return list(self._lists)

    def to_dict(self) -> dict[str, list[dict[str, str]]]:
        return {name: [{"value": v, "label": lbl} for v, lbl in opts] for name, opts in self._lists.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StaticLists:
        """From the JSON layout `{name: [{"value": .., "label": ..}, ...]}`."""
        return cls({
            name: [(o["value"], o.get("label") or o["value"]) for o in opts] for name, opts in data.items()
        })

    def __contains__(self, name: str) -> bool:
        return name in self._lists


@lru_cache(maxsize=1)
def demo_lists() -> StaticLists:
    """The demo select lists shipped with the package (used offline and to seed the demo server)."""
    text = resources.files("bulkassist").joinpath("data/demo_lists.json").read_text(encoding="utf-8")
    return StaticLists.from_dict(json.loads(text))


def lists_payload(lists: SelectLists) -> dict[str, list[dict[str, str]]]:
    """Any provider as the JSON layout of `StaticLists.to_dict`."""
    return {name: [{"value": v, "label": lbl} for v, lbl in lists.options(name)] for name in lists.names()}
