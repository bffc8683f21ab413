"""The storage module against SQLite and a real PostgreSQL (the `database_url` fixture)."""
from __future__ import annotations

import pytest

from datarules import load_dataset, write_dataset
from gateway.export import snapshot
from gateway.importer import import_dataset
from gateway.store import Conflict, NotFound


@pytest.fixture
def loaded(store, tiny_data_dir):
    import_dataset(store.engine, load_dataset(tiny_data_dir))
    return store


def test_import_then_not_empty(store, tiny_data_dir):
    assert store.is_empty()
    counts = import_dataset(store.engine, load_dataset(tiny_data_dir))
    assert counts == {"users": 3, "playlists": 5, "likes": 4}
    assert not store.is_empty()


def test_import_is_all_or_nothing(store, tiny_data_dir):
    dataset = load_dataset(tiny_data_dir)
    dataset.user_ids.append("ghost")  # a like by a user who does not exist: FK violation
    dataset.playlist_ids.append("pl1")
    dataset.weights.append(1.0)
    dataset.timestamps.append(None)
    with pytest.raises(Exception):
        import_dataset(store.engine, dataset)
    assert store.is_empty()


def test_users_paging_search_and_counts(loaded):
    items, total = loaded.list_users(None, 2, 0)
    assert total == 3
    assert items == [{"id": "u1", "name": "Ada", "like_count": 2},
                     {"id": "u2", "name": "Ben", "like_count": 2}]
    assert loaded.list_users(None, 2, 2)[0] == [{"id": "u3", "name": "Cleo", "like_count": 0}]
    assert loaded.list_users("cLe", 20, 0) == ([{"id": "u3", "name": "Cleo",
                                                 "like_count": 0}], 1)
    assert loaded.list_users("%", 20, 0) == ([], 0)  # LIKE wildcards are literal


def test_create_user_and_conflict(loaded):
    assert loaded.create_user("new", "Nova") == {"id": "new", "name": "Nova", "like_count": 0}
    assert loaded.get_user("new")["name"] == "Nova"
    with pytest.raises(Conflict):
        loaded.create_user("u1", "Impostor")
    with pytest.raises(NotFound):
        loaded.get_user("nobody")


def test_playlists_order_search_and_tags(loaded):
    items, total = loaded.list_playlists(None, None, 20, 0)
    assert total == 5
    assert [p["id"] for p in items] == ["pl1", "pl2", "pl3", "pl4", "pl5"]  # most liked first
    assert items[0] == {"id": "pl1", "name": "Morning Jazz",
                        "description": "soft jazz for 100% mornings", "tracks": 12,
                        "like_count": 2, "retired_at": None, "tags": ["jazz", "chill"]}
    assert [p["id"] for p in loaded.list_playlists("JAZZ", None, 20, 0)[0]] == ["pl1", "pl3"]
    assert [p["id"] for p in loaded.list_playlists(None, "jazz", 1, 1)[0]] == ["pl3"]
    assert loaded.list_playlists(None, "jazz", 1, 1)[1] == 2
    assert [p["id"] for p in loaded.list_playlists("_", None, 20, 0)[0]] == ["pl2"]
    assert [p["id"] for p in loaded.list_playlists("100%", None, 20, 0)[0]] == ["pl1"]
    assert loaded.list_playlists("ünï", None, 20, 0)[1] == 1
    assert loaded.get_playlist("pl4")["tags"] == ["world"]
    assert loaded.tag_counts()[0] == {"tag": "jazz", "count": 2}
    with pytest.raises(NotFound):
        loaded.get_playlist("nope")


def test_likes_are_idempotent_and_ordered(loaded):
    assert loaded.history("u1", 10) == ["pl3", "pl1"]  # most recent first
    loaded.set_like("u3", "pl2", True)
    loaded.set_like("u3", "pl2", True)
    loaded.set_like("u3", "pl4", True)
    assert loaded.history("u3", 10) == ["pl4", "pl2"]
    assert [p["id"] for p in loaded.user_likes("u3")] == ["pl4", "pl2"]
    assert loaded.get_playlist("pl2")["like_count"] == 2
    loaded.set_like("u3", "pl2", False)
    loaded.set_like("u3", "pl2", False)
    assert loaded.history("u3", 10) == ["pl4"]
    assert loaded.history("u3", 0) == []
    with pytest.raises(NotFound):
        loaded.set_like("nobody", "pl1", True)
    with pytest.raises(NotFound):
        loaded.set_like("u1", "nope", False)
    with pytest.raises(NotFound):
        loaded.history("nobody", 10)


def test_playlists_by_id(loaded):
    found = loaded.playlists_by_id(["pl2", "missing", "pl2"])
    assert list(found) == ["pl2"] and found["pl2"]["tags"] == ["rock", "workout"]
    assert loaded.playlists_by_id([]) == {}


def test_export_round_trips_with_new_likes(loaded, tiny_data_dir, tmp_path):
    loaded.set_like("u3", "pl5", True)
    out = tmp_path / "export"
    assert snapshot(loaded.engine, out) == {"users": 3, "playlists": 5, "interactions": 5}
    original, exported = load_dataset(tiny_data_dir), load_dataset(out)
    assert exported.users == original.users
    assert exported.playlists == original.playlists
    pairs = dict(zip(zip(exported.user_ids, exported.playlist_ids), exported.weights))
    assert pairs[("u1", "pl1")] == 2.0 and pairs[("u3", "pl5")] == 1.0
    assert len(pairs) == 5


def test_write_dataset_of_export_is_loadable_again(loaded, tmp_path):
    users, playlists, interactions = loaded.export_rows()
    write_dataset(tmp_path / "again", users, playlists, interactions)
    assert len(load_dataset(tmp_path / "again")) == 4
