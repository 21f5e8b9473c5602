"""Restructuring changes no result: the digest of a fixed experiment is as recorded."""

from __future__ import annotations

import json

from digest import DIGEST_FILE, compute


def test_results_are_unchanged():
    recorded = json.loads(DIGEST_FILE.read_text())
    now = compute()
    moved = {
        f"{table}.{col}"
        for table in recorded
        for col in set(recorded[table]) | set(now.get(table, {}))
        if recorded[table].get(col) != now.get(table, {}).get(col)
    }
    assert not moved, f"results moved in: {sorted(moved)}"
