"""The Spark engine reads the training snapshot itself: Parquet from the exporter, and the
likes over JDBC from a real PostgreSQL (inside the exporter's snapshot), into the matrix the
CSV path builds; bad rows are a DataError naming file and row. Spark local[2]."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import insert, text

from bento import train
from bento.recsys.dataio import PARQUET_INTERACTIONS, DataError, write_dataset
from bento.spark_snapshot import jdbc_likes
from gateway import export
from gateway.settings import Settings
from gateway.store import make_engine
from gateway.tables import likes, users
from tests.conftest import run_module
from tests.gateway.conftest import TINY_LIKES, TINY_PLAYLISTS, TINY_USERS, migrate_and_import

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database(postgres_url, sample_data_dir):
    """The sample data in a fresh schema of the real PostgreSQL, with a read-only role."""
    engine = make_engine(Settings(database_url=postgres_url).sqlalchemy_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        conn.execute(text("DROP ROLE IF EXISTS snapshot_reader"))
    migrate_and_import(postgres_url, sample_data_dir)
    with engine.begin() as conn:
        conn.execute(text("CREATE ROLE snapshot_reader LOGIN PASSWORD 'read''only'; "
                          "GRANT USAGE ON SCHEMA public TO snapshot_reader; "
                          "GRANT SELECT ON ALL TABLES IN SCHEMA public TO snapshot_reader"))
    yield engine
    engine.dispose()


def count_likes(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM likes")).scalar()


def reader_url(postgres_url: str) -> str:
    return postgres_url.replace("postgres@", "snapshot_reader:read%27only@")


def assert_same_matrix(ours, theirs):
    (matrix, playlists, _), (expected, expected_playlists, _) = ours, theirs
    assert matrix.user_ids == expected.user_ids and matrix.item_ids == expected.item_ids
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(matrix.user_items, name),
                                      getattr(expected.user_items, name))
    np.testing.assert_array_equal(matrix.liked_at, expected.liked_at)
    assert playlists == expected_playlists


def test_parquet_and_jdbc_snapshots_give_the_matrix_of_the_csv_snapshot(
        database, postgres_url, spark_engine, tmp_path):
    export.snapshot(database, tmp_path / "csv")
    export.snapshot(database, tmp_path / "parquet", "parquet")
    reader = make_engine(Settings(database_url=reader_url(postgres_url)).sqlalchemy_url)
    try:
        counts = export.snapshot(reader, tmp_path / "jdbc",
                                 jdbc_likes(spark_engine.spark, reader_url(postgres_url), 4))
    finally:
        reader.dispose()
    expected = train.load(tmp_path / "csv")
    assert counts["interactions"] == expected[0].user_items.nnz
    assert len(list((tmp_path / "jdbc" / PARQUET_INTERACTIONS).glob("*.parquet"))) == 4
    for name in ("parquet", "jdbc"):
        assert not (tmp_path / name / "interactions.csv").exists()
        assert_same_matrix(train.load(tmp_path / name, spark_engine), expected)


def test_the_jdbc_read_sees_the_exporters_moment_and_cannot_write(database, postgres_url,
                                                                  spark_engine, tmp_path):
    read = jdbc_likes(spark_engine.spark, reader_url(postgres_url), 3)

    def like_meanwhile_then_read(conn, query, path):
        with database.begin() as other:  # a new listener likes something meanwhile
            other.execute(insert(users).values(id="later", name="Later"))
            other.execute(insert(likes).values(user_id="later", playlist_id=playlist,
                                               weight=1.0, liked_at=2e9))
        return read(conn, query, path)

    before = count_likes(database)
    with database.connect() as conn:
        playlist = conn.execute(text("SELECT min(id) FROM playlists")).scalar()
    reader = make_engine(Settings(database_url=reader_url(postgres_url)).sqlalchemy_url)
    try:
        counts = export.snapshot(reader, tmp_path, like_meanwhile_then_read)
        with pytest.raises(Exception, match="permission denied"), reader.begin() as conn:
            conn.execute(insert(likes).values(user_id="u00002", playlist_id="pl0001"))
    finally:
        reader.dispose()
        with database.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE id = 'later'"))  # cascades to the like
    assert counts["interactions"] == before
    matrix = train.load(tmp_path, spark_engine)[0]
    assert matrix.user_items.nnz == before and "later" not in matrix.user_ids


def write_snapshot(directory, rows, catalogue=True, **columns):
    """A catalogue (CSV) and `rows` (user_id, playlist_id, weight, timestamp) as Parquet."""
    write_dataset(directory, TINY_USERS, TINY_PLAYLISTS if catalogue else [], ())
    (directory / "interactions.csv").unlink()
    if not catalogue:
        (directory / "playlists.csv").unlink()
    names = ("user_id", "playlist_id", "weight", "timestamp")
    table = pa.table({**{name: [row[k] for row in rows] for k, name in enumerate(names)},
                      **columns})
    pq.write_table(table, directory / "interactions.parquet", row_group_size=2)
    return directory


ROWS = [("u2", "pl2", 1.0, None), ("u1", "pl3", 1.0, 1_700_000_100.0),
        ("u1", "pl1", 0.5, 1_700_000_000.0), ("u2", "pl1", 1.0, None),
        ("u1", "pl1", 1.5, 1_600_000_000.0)]  # a duplicate: weights summed, latest time kept


@pytest.mark.parametrize("catalogue", [True, False], ids=["catalogue", "no-catalogue"])
def test_parquet_rows_follow_the_csv_rules(spark_engine, tmp_path, catalogue):
    write_snapshot(tmp_path / "parquet", ROWS, catalogue)
    write_dataset(tmp_path / "csv", TINY_USERS, TINY_PLAYLISTS if catalogue else [], ROWS)
    if not catalogue:
        (tmp_path / "csv" / "playlists.csv").unlink()
    ours, expected = train.load(tmp_path / "parquet", spark_engine), train.load(tmp_path / "csv")
    assert_same_matrix(ours, expected)
    assert any("merged 1 duplicate" in warning for warning in ours[2])
    assert ours[0].user_items[0].toarray().tolist()[0][:3] == ([2.0, 0.0, 1.0] if catalogue
                                                               else [0.0, 1.0, 2.0])


BAD = [
    ([("u1", "pl1", 1.0, None), ("u 1 ", "pl2", 1.0, None)], {},
     "interactions.parquet:2: user_id must not start or end with whitespace: 'u 1 '"),
    ([("u1", "pl1", 1.0, None), ("u2", "nope", 1.0, None)], {},
     "interactions.parquet:2: playlist_id 'nope' is not in playlists.csv"),
    ([("u1", "pl1", 1.0, None), ("u1", "pl2", 1.0, None), ("u2", "", 1.0, None)], {},
     "interactions.parquet:3: empty playlist_id"),
    ([("u1", "pl1", 1.0, None), ("u2", "pl2", -1.0, None), ("=cmd", "pl3", 1.0, None)], {},
     "interactions.parquet:2: weight -1.0 must be a positive number"),
    ([("u1", "pl1", 1.0, float("inf"))], {}, "interactions.parquet:1: timestamp inf is not"),
    ([("u1", "pl1", 1.0, None)], {"weight": ["heavy"]}, "column weight must be a number"),
    ([], {}, "interactions.parquet: no interactions"),
]


@pytest.mark.parametrize("rows,columns,message", BAD, ids=[b[2].split(": ")[-1] for b in BAD])
def test_bad_parquet_rows_are_a_data_error_naming_file_and_row(
        spark_engine, tmp_path, rows, columns, message):
    if not rows:
        columns = {name: pa.array([], pa.string()) for name in ("user_id", "playlist_id")}
        columns.update(weight=pa.array([], pa.float64()), timestamp=pa.array([], pa.float64()))
    write_snapshot(tmp_path, rows, **columns)
    with pytest.raises(DataError) as caught:
        train.load(tmp_path, spark_engine)
    assert str(caught.value).startswith(str(tmp_path)) and message in str(caught.value)


def test_a_snapshot_that_is_not_parquet_or_is_ambiguous_is_refused(spark_engine, tmp_path):
    write_snapshot(tmp_path, ROWS)
    (tmp_path / "interactions.parquet").write_bytes(b"user_id,playlist_id\nu1,pl1\n")
    with pytest.raises(DataError, match="not a readable Parquet snapshot"):
        train.load(tmp_path, spark_engine)
    write_dataset(tmp_path, TINY_USERS, TINY_PLAYLISTS, TINY_LIKES)
    with pytest.raises(DataError, match="holds both interactions.csv and interactions.parquet"):
        train.load(tmp_path, spark_engine)


def test_train_on_a_parquet_snapshot_needs_spark_and_then_matches_the_csv_model(
        database, tmp_path):
    """`bento.train --engine spark` on the Parquet snapshot saves the model the local engine
    fits, with the settings it chose, from the CSV snapshot of the same database."""
    from bento.recsys.algorithms import fit
    from bento.recsys.matrix import binarize
    from bento.recsys.model import ItemItemModel

    export.snapshot(database, tmp_path / "csv")
    export.snapshot(database, tmp_path / "parquet", "parquet")
    refused = run_module("bento.train", "--data", str(tmp_path / "parquet"), check=False)
    assert refused.returncode == 2 and "train with --engine spark" in refused.stderr
    home = tmp_path / "home"
    result = run_module("bento.train", "--data", str(tmp_path / "parquet"), "--engine", "spark",
                        "--algorithm", "rp3beta", "--no-eval", env={"BENTOML_HOME": str(home)})
    name, version = result.stdout.strip().splitlines()[-1].split(":")
    saved, catalogue = ItemItemModel.load(home / "models" / name / version)
    matrix = train.load(tmp_path / "csv")[0]
    local = fit("rp3beta", binarize(matrix.user_items), matrix.item_ids, saved.params)
    assert saved.item_ids == matrix.item_ids and len(catalogue) == len(matrix.item_ids)
    np.testing.assert_allclose(saved.weights.toarray(), local.weights.toarray(), rtol=1e-4,
                               atol=1e-6)


def test_retrain_with_spark_reads_the_likes_over_jdbc(database, postgres_url, tmp_path):
    from tests.bento.test_retrain import retrain

    code, report, stderr = retrain(tmp_path, "--database-url", reader_url(postgres_url),
                                   "--engine", "spark", "--snapshot", "jdbc",
                                   "--algorithm", "itemknn")
    assert code == 0 and report["decision"] == "promoted", stderr[-3000:]
    assert report["snapshot"]["likes"] == "jdbc"
    assert report["snapshot"]["counts"]["interactions"] == count_likes(database)


def test_retrain_refuses_jdbc_without_postgresql_or_spark(tmp_path):
    from tests.bento.test_retrain import retrain

    code, report, _ = retrain(tmp_path, "--database-url", f"sqlite:///{tmp_path}/x.db",
                              "--engine", "spark", "--snapshot", "jdbc")
    assert code == 2 and "--snapshot jdbc needs PostgreSQL" in report["error"]
    code, _, stderr = retrain(tmp_path, "--database-url", f"sqlite:///{tmp_path}/x.db",
                              "--snapshot", "parquet")
    assert code == 2 and "--snapshot parquet is read by --engine spark" in stderr
