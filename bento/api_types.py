"""The Bento's request and response types: its API contract, apart from the service so the
benchmark's bare BentoML echo (bench/echo_service.py) answers with the same response type, and
so BentoML's serialisation costs it what it costs the recommender (a `dict` return takes a
slower path in BentoML 1.4: a JSON schema built for every response)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

import datarules

MAX_IDS = 2000

# The shared id rule (datarules): the same ids the gateway and the trainer accept.
PlaylistId = Annotated[str, StringConstraints(min_length=1, max_length=datarules.MAX_ID_LENGTH),
                       AfterValidator(datarules.raising(datarules.id_problem))]
# Tags compare normalized (datarules): "Jazz " asks for "jazz".
TagName = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1,
                                           max_length=datarules.MAX_TAG_LENGTH),
                    AfterValidator(datarules.raising(datarules.tag_problem))]
TagList = Annotated[list[TagName], Field(max_length=datarules.MAX_TAGS)]
TopK = Annotated[int, Field(ge=1, le=100, description="how many items to return (1..100)")]
LikedAt = Annotated[float | None, Field(allow_inf_nan=False)]


class Item(BaseModel):
    playlist_id: str
    score: float
    because: list[str] = Field(description="up to 3 history ids that contributed most")


class Recommendations(BaseModel):
    items: list[Item]
    strategy: Literal["personalized", "popular"]
    unknown: list[str] = Field(description="history ids the model does not know")
    model: str


class SimilarPlaylists(BaseModel):
    playlist_id: str
    items: list[Item]
    model: str


class ModelInfo(BaseModel):
    tag: str
    algorithm: str
    parameters: dict
    metrics: dict
    baseline_metrics: dict
    counts: dict
    trained_at: str
    versions: dict
    catalogue: dict = Field(description="playlists and tags the model was trained with")
    # Empty, not null, when the model did not come from the registry: BentoML's OpenAPI drops
    # the null of an optional field, and answers must match the published schema.
    registry_version: str = Field("", description="MLflow registered model version ('': none)")
    promoted_at: str = Field("", description="when that version became champion ('': unknown)")
    signals: dict = Field(default_factory=dict,
                          description="content and recency: on or off, and the validation")
    search: dict = Field(default_factory=dict,
                         description="the settings search: candidates fitted, and cut_by "
                                     "when --time-budget or the candidate cap stopped it")
    recency_half_life_days: float = Field(
        0.0, description="the half-life this Bento applies to history_times (0: off)")
