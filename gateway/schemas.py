"""Request and response shapes at the edge; validation lives in the types."""
from __future__ import annotations

from typing import Annotated, Any, Callable, Literal

from fastapi import Path, Query
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, StringConstraints,
                      model_validator)

import datarules


def rule(problem: Callable[[Any], str | None]) -> AfterValidator:
    """A pydantic validator from one of the shared rules (the rule's reason is the message)."""
    return AfterValidator(datarules.raising(problem))


# Ids: the shared rule (docs/ARCHITECTURE.md "Identifiers"); lengths repeated for OpenAPI only.
ID_DOC = {"min_length": 1, "max_length": datarules.MAX_ID_LENGTH}
Id = Annotated[str, StringConstraints(**ID_DOC), rule(datarules.id_problem)]
UserIdPath = Annotated[str, Path(**ID_DOC, description="user id"), rule(datarules.id_problem)]
PlaylistIdPath = Annotated[str, Path(**ID_DOC, description="playlist id"),
                           rule(datarules.id_problem)]
K = Annotated[int, Query(ge=1, le=100, description="how many items (1..100)")]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
SearchText = Annotated[str | None, Query(max_length=200, description="substring, any case")]
TagText = Annotated[str | None, Query(min_length=1, max_length=200)]
# Names are trimmed first (a form field's stray space is no mistake), then the shared rule.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=datarules.MAX_NAME_LENGTH),
                 rule(datarules.name_problem)]
Description = Annotated[str, StringConstraints(strip_whitespace=True,
                                               max_length=datarules.MAX_DESCRIPTION_LENGTH),
                        rule(datarules.description_problem)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1,
                                       max_length=datarules.MAX_TAG_LENGTH),
                rule(datarules.tag_problem)]
Tags = Annotated[list[Tag], Field(max_length=datarules.MAX_TAGS),
                 AfterValidator(lambda tags: list(dict.fromkeys(tags)))]
Tracks = Annotated[int, Field(ge=0, lt=10**9)]
# Recommendation filters, repeatable: ?tags=jazz&tags=live (any of) and ?exclude_tags=...
TagFilter = Annotated[list[Tag], Query(max_length=datarules.MAX_TAGS,
                                       description="tags, repeat the parameter for more")]


class User(BaseModel):
    id: str
    name: str
    like_count: int


class UserCreate(BaseModel):
    name: Name
    id: Id | None = None


class Playlist(BaseModel):
    id: str
    name: str
    description: str
    tags: list[str]
    tracks: int | None
    like_count: int
    retired_at: float | None = Field(None, description="unix seconds; set once retired")


class PlaylistCreate(BaseModel):
    """A new catalogue entry; the id is generated when not given."""

    model_config = ConfigDict(extra="forbid")
    id: Id | None = None
    name: Name
    description: Description = ""
    tags: Tags = []
    tracks: Tracks | None = None


class PlaylistUpdate(BaseModel):
    """Only the fields sent change; `tracks: null` means "unknown"."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    description: Description | None = None
    tags: Tags | None = None
    tracks: Tracks | None = None

    @model_validator(mode="after")
    def no_null_text(self) -> PlaylistUpdate:
        for field_name in ("name", "description", "tags"):
            if field_name in self.model_fields_set and getattr(self, field_name) is None:
                raise ValueError(f"{field_name} must not be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class Page(BaseModel):
    total: int
    limit: int
    offset: int


class UserPage(Page):
    items: list[User]


class PlaylistPage(Page):
    items: list[Playlist]


class TagCount(BaseModel):
    tag: str
    count: int


class TagList(BaseModel):
    items: list[TagCount]


class Likes(BaseModel):
    user_id: str
    items: list[Playlist]
    total: int


class LikeState(BaseModel):
    user_id: str
    playlist_id: str
    liked: bool


class PlaylistRef(BaseModel):
    playlist_id: str
    name: str


class RecommendationItem(BaseModel):
    playlist_id: str
    name: str
    description: str
    tags: list[str]
    tracks: int | None
    score: float
    because: list[PlaylistRef]


class Recommendations(BaseModel):
    user_id: str
    strategy: Literal["personalized", "popular"]
    model: str
    unknown: list[str]
    items: list[RecommendationItem]


class PopularRecommendations(BaseModel):
    strategy: Literal["personalized", "popular"]
    model: str
    items: list[RecommendationItem]


class Similar(BaseModel):
    playlist_id: str
    items: list[RecommendationItem]
    model: str


class SeedRecommendationRequest(BaseModel):
    """The seed service's request body, kept so its clients keep working."""

    user_id: Id
    num_recommendations: int = Field(10, ge=1, le=100)


class SeedRecommendations(BaseModel):
    user_id: str
    recommendations: list[RecommendationItem]


class ClientConfig(BaseModel):
    auth_mode: Literal["demo", "proxy", "jwt"]
    sign_out_url: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


ModelInfo = dict[str, Any]
