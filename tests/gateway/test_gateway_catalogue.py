"""Catalogue writes, the maintained like count and the import command's store side, on SQLite
and a real PostgreSQL (the `database_url` fixture)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from datarules import load_dataset, write_dataset
from gateway import catalogue
from gateway.importer import import_dataset
from gateway.store import Conflict, NotFound
from gateway.tables import likes, playlists


@pytest.fixture
def loaded(store, tiny_data_dir):
    import_dataset(store.engine, load_dataset(tiny_data_dir))
    return store


def stored_counts(store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return dict(conn.execute(select(playlists.c.id, playlists.c.like_count)).all())


def true_counts(store) -> dict[str, int]:
    counted = (select(func.count()).where(likes.c.playlist_id == playlists.c.id)
               .scalar_subquery())
    with store.engine.connect() as conn:
        return dict(conn.execute(select(playlists.c.id, counted)).all())


def test_import_counts_likes_and_rerun_changes_nothing(loaded, tiny_data_dir):
    assert stored_counts(loaded) == true_counts(loaded) == {
        "pl1": 2, "pl2": 1, "pl3": 1, "pl4": 0, "pl5": 0}
    before = loaded.export_rows()
    import_dataset(loaded.engine, load_dataset(tiny_data_dir))
    assert loaded.export_rows() == before
    assert stored_counts(loaded) == true_counts(loaded)


def test_reimport_updates_keeps_api_likes_and_retirement(loaded, tiny_data_dir, tmp_path):
    loaded.set_like("u3", "pl4", True)
    catalogue.retire_playlist(loaded, "pl5")
    dataset = load_dataset(tiny_data_dir)
    dataset.playlists["pl1"].name = "Morning Jazz II"
    users = {**dataset.users, "u9": "Nine"}
    write_dataset(tmp_path / "again", users, list(dataset.playlists.values()),
                  [*zip(dataset.user_ids, dataset.playlist_ids, dataset.weights,
                        dataset.timestamps), ("u9", "pl2", 3.0, None)])
    import_dataset(loaded.engine, load_dataset(tmp_path / "again"))
    assert loaded.get_playlist("pl1")["name"] == "Morning Jazz II"
    assert loaded.get_playlist("pl5")["retired_at"] is not None
    assert "pl4" in [p["id"] for p in loaded.user_likes("u3")]
    assert stored_counts(loaded) == true_counts(loaded)
    assert stored_counts(loaded)["pl2"] == 2 and stored_counts(loaded)["pl4"] == 1


def test_like_unlike_and_erase_keep_the_count(loaded):
    loaded.set_like("u3", "pl5", True)
    loaded.set_like("u3", "pl5", True)  # idempotent: counted once
    loaded.set_like("u3", "pl1", True)
    assert stored_counts(loaded)["pl5"] == 1 and stored_counts(loaded)["pl1"] == 3
    loaded.set_like("u3", "pl5", False)
    loaded.set_like("u3", "pl5", False)
    assert stored_counts(loaded)["pl5"] == 0
    assert loaded.erase_user("u1") == 2
    with pytest.raises(NotFound):
        loaded.get_user("u1")
    assert stored_counts(loaded) == true_counts(loaded)
    assert stored_counts(loaded)["pl1"] == 2  # u2 and u3 remain


def test_create_update_retire(loaded):
    created = catalogue.create_playlist(loaded, "pl-new", "Fresh", "", ["new", "pop"], None)
    assert created == {"id": "pl-new", "name": "Fresh", "description": "", "tracks": None,
                       "like_count": 0, "retired_at": None, "tags": ["new", "pop"]}
    with pytest.raises(Conflict):
        catalogue.create_playlist(loaded, "pl1", "Copy", "", [], None)
    updated = catalogue.update_playlist(loaded, "pl-new", {"name": "Fresher", "tags": ["pop"]})
    assert (updated["name"], updated["tags"], updated["description"]) == ("Fresher", ["pop"], "")
    assert catalogue.update_playlist(loaded, "pl-new", {})["name"] == "Fresher"
    with pytest.raises(NotFound):
        catalogue.update_playlist(loaded, "nope", {"name": "x"})

    retired = catalogue.retire_playlist(loaded, "pl1")
    assert retired["retired_at"] is not None
    assert catalogue.retire_playlist(loaded, "pl1")["retired_at"] == retired["retired_at"]
    assert loaded.retired_ids() == ["pl1"]
    browse, total = loaded.list_playlists(None, None, 20, 0)
    assert "pl1" not in [p["id"] for p in browse] and total == 5
    assert "chill" not in [t["tag"] for t in loaded.tag_counts()]  # only pl1 had it
    with pytest.raises(Conflict, match="retired"):
        loaded.set_like("u3", "pl1", True)
    loaded.set_like("u1", "pl1", False)  # unliking a retired playlist is fine
    assert stored_counts(loaded)["pl1"] == 1
    with pytest.raises(NotFound):
        catalogue.retire_playlist(loaded, "nope")
