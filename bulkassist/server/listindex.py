"""The suggest endpoint's in-memory index: one `ListMatcher` per (organisation, select list).

Each request reads the list's version (one indexed row) and answers from the cached matcher when it
matches; otherwise the list is read once and a new matcher replaces the old. Versions are random and
change in the transaction that replaces the list (`orgdata.replace_list`), so every worker process
sees a change on its next request. The key holds the organisation: one organisation's list is never
answered to another. The version is read before the values, so a list replaced in between is cached
under the older version and read again next time, never the other way round.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy.orm import Session

from bulkassist.engine.suggestions import ListMatcher
from bulkassist.errors import NotFound
from bulkassist.server.orgdata import list_version, lists_for

_KEEP = 32  # lists kept per process (least recently used go first)


class ListIndex:
    def __init__(self, keep: int = _KEEP):
        self._keep = keep
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, str], tuple[str, ListMatcher]] = OrderedDict()

    def matcher(self, session: Session, org_id: int, list_name: str) -> ListMatcher:
        """The organisation's list as a matcher on values and labels; 404 when it has no such list."""
        version = list_version(session, org_id, list_name)
        if version is None:
            raise NotFound(f"no select list named {list_name!r} in your organisation")
        key = (org_id, list_name)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == version:
                self._cache.move_to_end(key)
                return hit[1]
        options = lists_for(session, org_id, [list_name]).options(list_name)
        if not options:
            raise NotFound(f"no select list named {list_name!r} in your organisation")
        matcher = ListMatcher(options, match_labels=True)
        matcher.prepare()
        with self._lock:
            self._cache[key] = (version, matcher)
            self._cache.move_to_end(key)
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return matcher
