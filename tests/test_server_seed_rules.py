"""Seed rules the server enforces for every client (issue 10), each over HTTP on SQLite and PostgreSQL.

One test per rule; the README's "Seed rules: where each lives" table names them.
"""

from __future__ import annotations

import uuid

import polars as pl
import pytest

from tests.test_server_domains import CASE, committed, ref, stored_periods


# ------------------------------------------------------------------ seed 001: cases
def test_create_increment_keeps_a_new_cases_treatment_period_and_increments_only_duplicates(server, client):
    """Seed 001: "Create case and increment treatment period" increments a *duplicate* by 1 from the existing
    case's period; a new Identifier keeps the TreatmentPeriod the file gives it (3 stays 3)."""
    old, new = f"inc{ref().lower()}", f"new{ref().lower()}"
    committed(client, "case", CASE, [[old, "John", "Doe", "ACTIVE", "4"]])
    _, final = committed(client, "case", CASE, [[new, "Jane", "Roe", "ACTIVE", "3"],
                                                [old, "John", "Doe", "ACTIVE", "1"],
                                                [new, "Jane", "Roe", "ACTIVE", "3"]],
                         options={"duplicate_action": "create_increment"})
    assert final["status"] == "Committed"
    assert stored_periods(server.database_url, new) == ["3", "4"]  # the first keeps 3, its repeat is 3 + 1
    assert stored_periods(server.database_url, old) == ["4", "5"]  # the existing case had 4
