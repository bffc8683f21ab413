"""The data rules every deployable shares: ids, names, tags, formula checks (`rules`) and the
CSV data format (`csvformat`). Standard library only; the trainer, the Bento's request types and
the gateway's schemas and tables import these, nothing redefines them."""
from datarules.csvformat import (COLUMNS, INTERACTIONS, PLAYLISTS, USERS, DataError, Dataset,
                                 Playlist, load_dataset, write_csv_atomic, write_dataset)
from datarules.rules import (MAX_DESCRIPTION_LENGTH, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_TAGS,
                             MAX_TAG_LENGTH, description_problem, id_problem, looks_like_formula,
                             name_problem, normalize_tag, raising, tag_problem, tags_problem,
                             tracks_problem)

__all__ = [
    "COLUMNS", "INTERACTIONS", "PLAYLISTS", "USERS", "DataError", "Dataset", "Playlist",
    "load_dataset", "write_csv_atomic", "write_dataset",
    "MAX_DESCRIPTION_LENGTH", "MAX_ID_LENGTH", "MAX_NAME_LENGTH", "MAX_TAGS", "MAX_TAG_LENGTH",
    "description_problem", "id_problem", "looks_like_formula", "name_problem", "normalize_tag",
    "raising",
    "tag_problem", "tags_problem", "tracks_problem",
]
