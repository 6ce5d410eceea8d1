"""Every cell kind of the spec has the one module that checks, describes and formats its cells."""

from __future__ import annotations

from bulkassist.kinds import KINDS
from bulkassist.spec import Kind


def test_every_kind_of_the_spec_is_registered_under_its_own_name():
    assert set(KINDS) == set(Kind)
    assert all(k.kind is kind for kind, k in KINDS.items())
