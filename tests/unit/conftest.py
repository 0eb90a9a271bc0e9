"""Fixtures shared by the unit tests of the actions."""

import pytest

from actions import handoff
from bot.handoff.store import HandoffStore
from tests.databases import migrated_engine


@pytest.fixture
def store(tmp_path, monkeypatch):
    with migrated_engine("sqlite", tmp_path) as engine:
        tickets = HandoffStore(engine)
        monkeypatch.setattr(handoff, "store", lambda: tickets)
        yield tickets
