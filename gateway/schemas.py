"""Request and response shapes at the edge; validation lives in the types."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from bento.recsys.dataio import looks_like_formula

# Ids: 1..128 characters, no control characters (docs/ARCHITECTURE.md "Identifiers").
ID_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]+$"
ID_RULES = {"min_length": 1, "max_length": 128, "pattern": ID_PATTERN}
Id = Annotated[str, StringConstraints(**ID_RULES)]
UserIdPath = Annotated[str, Path(**ID_RULES, description="user id")]
PlaylistIdPath = Annotated[str, Path(**ID_RULES, description="playlist id")]
K = Annotated[int, Query(ge=1, le=100, description="how many items (1..100)")]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
SearchText = Annotated[str | None, Query(max_length=200, description="substring, any case")]
TagText = Annotated[str | None, Query(min_length=1, max_length=200)]


def not_a_formula(name: str) -> str:
    """Names go back out to CSV on export; refuse what a spreadsheet would execute."""
    if looks_like_formula(name):
        raise ValueError("name must not start with =, +, @ or -= (spreadsheet formula)")
    return name


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                        pattern=ID_PATTERN), AfterValidator(not_a_formula)]


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
