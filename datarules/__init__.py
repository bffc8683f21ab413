"""The data rules every deployable shares: ids, names, tags, formula checks (`rules`) and the
CSV data format (`csvformat`, with `interactions` loading a data directory). The trainer, the
Bento's request types and the gateway's schemas and tables import these, nothing redefines them.
Standard library only, except `Dataset` and `load_dataset` (numpy), imported on first use so
code that only checks values (the gateway's server, the Bento's request types) never loads numpy.
"""
from datarules.csvformat import (COLUMNS, INTERACTIONS, PARQUET_INTERACTIONS, PLAYLISTS, USERS,
                                 DataError, Playlist, write_csv_atomic, write_dataset)
from datarules.rules import (MAX_DESCRIPTION_LENGTH, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_TAGS,
                             MAX_TAG_LENGTH, description_problem, id_problem, looks_like_formula,
                             name_problem, normalize_tag, raising, tag_problem, tags_problem,
                             tracks_problem)

__all__ = [
    "COLUMNS", "INTERACTIONS", "PARQUET_INTERACTIONS", "PLAYLISTS", "USERS", "DataError",
    "Dataset", "Playlist",
    "load_dataset", "write_csv_atomic", "write_dataset",
    "MAX_DESCRIPTION_LENGTH", "MAX_ID_LENGTH", "MAX_NAME_LENGTH", "MAX_TAGS", "MAX_TAG_LENGTH",
    "description_problem", "id_problem", "looks_like_formula", "name_problem", "normalize_tag",
    "raising",
    "tag_problem", "tags_problem", "tracks_problem",
]


def __getattr__(name: str):
    """`Dataset` and `load_dataset` from `datarules.interactions`, imported on first use."""
    if name in ("Dataset", "load_dataset"):
        from datarules import interactions

        return getattr(interactions, name)
    raise AttributeError(f"module 'datarules' has no attribute {name!r}")
