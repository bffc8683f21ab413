"""All configuration, read from the environment once (names in docs/ARCHITECTURE.md)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    database_url: str = "sqlite:///var/gateway.db"
    bento_url: str = "http://127.0.0.1:3000"
    bento_timeout_seconds: float = Field(1.0, gt=0, le=60)
    gateway_data_dir: Path = Path("data/sample")
    cors_origins: str = ""
    spa_dir: Path | None = None
    log_level: str = "info"
    # The model registry, for the last retrain's verdict on /api/model (empty: none).
    mlflow_tracking_uri: str = ""

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def sqlalchemy_url(self) -> str:
        """`postgresql://` URLs get the psycopg 3 driver, the only one installed."""
        for prefix in ("postgresql://", "postgres://"):
            if self.database_url.startswith(prefix):
                return "postgresql+psycopg://" + self.database_url[len(prefix):]
        return self.database_url
