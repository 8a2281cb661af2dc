"""The Ask history in a real encrypted tenant database: per user, bounded, deletable."""

from pathlib import Path

import pytest

from agents.analyze.conversations import ConversationHistory
from storage.errors import NotFoundError
from tests.agents.analyze.index_support import Tenant


def test_each_user_sees_only_their_own_turns_in_the_order_asked(tmp_path: Path) -> None:
    # GIVEN two users asking in the same tenant
    history = ConversationHistory(Tenant(tmp_path).db)
    history.add("u-olga", "first?", "one", [{"number": 1, "title": "a"}], ["d1"], False)
    history.add("u-vera", "hers?", "other", [], [], True)
    history.add("u-olga", "second?", "two", [], [], False)
    # WHEN olga reads her history THEN both of hers, oldest first, with what was stored
    turns = history.recent("u-olga")
    assert [t.question for t in turns] == ["first?", "second?"]
    assert turns[0].citations == [{"number": 1, "title": "a"}] and turns[0].scope == ["d1"]
    assert [t.no_answer for t in history.recent("u-vera")] == [True]


def test_only_the_newest_turns_are_kept(tmp_path: Path) -> None:
    # GIVEN a history keeping three turns per user
    history = ConversationHistory(Tenant(tmp_path).db, keep=3)
    # WHEN five are added
    for n in range(5):
        history.add("u", f"q{n}", "a", [], [], False)
    # THEN the newest three remain
    assert [t.question for t in history.recent("u")] == ["q2", "q3", "q4"]


def test_a_user_deletes_one_turn_or_all_and_never_another_users(tmp_path: Path) -> None:
    # GIVEN turns of two users
    history = ConversationHistory(Tenant(tmp_path).db)
    mine = history.add("u-olga", "mine", "a", [], [], False)
    theirs = history.add("u-vera", "theirs", "b", [], [], False)
    history.add("u-olga", "also mine", "c", [], [], False)
    # WHEN olga deletes vera's turn THEN it is not found and stays
    with pytest.raises(NotFoundError):
        history.delete("u-olga", theirs)
    # WHEN she deletes one of hers THEN only that one goes
    history.delete("u-olga", mine)
    assert [t.question for t in history.recent("u-olga")] == ["also mine"]
    # WHEN she deletes all of hers THEN vera's history is untouched
    assert history.clear("u-olga") == 1
    assert history.recent("u-olga") == []
    assert [t.question for t in history.recent("u-vera")] == ["theirs"]
