"""The one exporter (gateway/export.py): a consistent, read-only, streamed snapshot in the
trainer's format, on SQLite and on a real PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from bento.recsys.dataio import load_dataset
from gateway import export
from gateway.importer import import_dataset
from gateway.tables import likes, users


def test_snapshot_round_trips_what_the_database_holds(store, tiny_data_dir, tmp_path,
                                                      monkeypatch):
    import_dataset(store.engine, load_dataset(tiny_data_dir))
    monkeypatch.setattr(export, "BATCH_ROWS", 2)  # several batches per table
    counts = export.snapshot(store.engine, tmp_path / "out")
    assert counts == {"users": 3, "playlists": 5, "interactions": 4}
    original, copied = load_dataset(tiny_data_dir), load_dataset(tmp_path / "out")
    assert copied.users == original.users and copied.playlists == original.playlists
    rows = sorted(zip(copied.user_ids, copied.playlist_ids, copied.weights, copied.timestamps))
    assert rows == sorted(zip(original.user_ids, original.playlist_ids, original.weights,
                              original.timestamps))


def test_the_likes_can_go_to_parquet_batch_by_batch(store, tiny_data_dir, tmp_path, monkeypatch):
    """`--likes parquet`: the same likes as typed columns, the catalogue still CSV, and no
    interactions.csv left beside them (nor a Parquet file after a later CSV snapshot)."""
    import pyarrow.parquet as pq

    import_dataset(store.engine, load_dataset(tiny_data_dir))
    monkeypatch.setattr(export, "BATCH_ROWS", 3)  # several row groups
    out = tmp_path / "out"
    export.snapshot(store.engine, out)
    counts = export.snapshot(store.engine, out, "parquet")
    assert counts == {"users": 3, "playlists": 5, "interactions": 4}
    assert sorted(p.name for p in out.iterdir()) == ["interactions.parquet", "playlists.csv",
                                                     "users.csv"]
    parquet = pq.ParquetFile(out / "interactions.parquet")
    assert parquet.metadata.num_row_groups == 2
    assert str(parquet.schema_arrow) == str(export.parquet_schema())
    original = load_dataset(tiny_data_dir)
    rows = sorted(tuple(row.values()) for row in parquet.read().to_pylist())
    assert rows == sorted(zip(original.user_ids, original.playlist_ids, original.weights,
                              original.timestamps))
    export.snapshot(store.engine, out)
    assert not (out / "interactions.parquet").exists() and (out / "interactions.csv").exists()
    with pytest.raises(ValueError, match="likes_to must be one of"):
        export.snapshot(store.engine, out, "orc")


def test_the_snapshot_sees_one_moment_and_cannot_write(store, tiny_data_dir):
    import_dataset(store.engine, load_dataset(tiny_data_dir))
    count = select(func.count()).select_from(likes)
    with export.snapshot_connection(store.engine) as snapshot:
        before = snapshot.execute(count).scalar()
        with store.engine.begin() as other:        # a listener likes something meanwhile
            other.execute(insert(likes).values(user_id="u3", playlist_id="pl5", weight=1.0))
        assert snapshot.execute(count).scalar() == before == 4
        if store.engine.dialect.name == "postgresql":
            with pytest.raises(DBAPIError, match="read-only transaction"):
                snapshot.execute(insert(users).values(id="x", name="x"))
    with store.engine.connect() as conn:
        assert conn.execute(count).scalar() == 5
