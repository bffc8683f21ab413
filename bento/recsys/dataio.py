"""The core data format, now owned by the shared `datarules` package; kept so existing imports
(`from bento.recsys.dataio import load_dataset`) keep working."""
from datarules.csvformat import (COLUMNS, INTERACTIONS, PARQUET_INTERACTIONS, PLAYLISTS, USERS,
                                 DataError, Playlist, check_description, check_id, check_name,
                                 check_tags, parse_timestamp, parse_weight, write_csv_atomic,
                                 write_dataset)
from datarules.interactions import Dataset, load_dataset
from datarules.reading import load_playlists, load_users, read_rows
from datarules.rules import MAX_ID_LENGTH, looks_like_formula

__all__ = [
    "COLUMNS", "INTERACTIONS", "PARQUET_INTERACTIONS", "PLAYLISTS", "USERS", "DataError",
    "Dataset", "Playlist",
    "check_description", "check_id", "check_name", "check_tags", "load_dataset",
    "load_playlists", "load_users", "parse_timestamp", "parse_weight", "read_rows",
    "write_csv_atomic", "write_dataset", "MAX_ID_LENGTH", "looks_like_formula",
]
