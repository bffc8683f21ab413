"""All configuration, read from the environment once (names in docs/ARCHITECTURE.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    database_url: str = "sqlite:///var/gateway.db"
    # PostgreSQL connections per replica: at most pool + overflow, so replicas x that sum must
    # fit the server's max_connections (README, "Delivery", connection budget).
    database_pool_size: int = Field(5, ge=1, le=100)
    database_max_overflow: int = Field(5, ge=0, le=100)
    bento_url: str = "http://127.0.0.1:3000"
    bento_timeout_seconds: float = Field(1.0, gt=0, le=60)
    cors_origins: str = ""
    spa_dir: Path | None = None
    log_level: str = "info"
    # /metrics on a port of its own (gateway/metrics_port.py; 0: on the API port, as make run).
    metrics_port: int = Field(0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    # Identity (README "Auth modes"): who a request speaks for, and who may manage others.
    auth_mode: Literal["demo", "proxy", "jwt"] = "demo"
    auth_demo_allow_remote: bool = False
    auth_trusted_proxies: str = "127.0.0.1"
    auth_jwks_url: str = ""
    auth_jwt_issuer: str = ""
    auth_jwt_audience: str = ""
    auth_groups_claim: str = "groups"
    # A token naming an unknown key refetches the JWKS at most once per this many seconds.
    auth_jwks_cooldown_seconds: float = Field(30.0, ge=0)
    auth_admin_group: str = "admin"
    auth_sign_out_url: str = ""
    # Peers whose X-Forwarded-For names the client address the access log shows (uvicorn's
    # variable name; the gateway applies it itself, gateway/peer.py). Identity trust
    # (AUTH_TRUSTED_PROXIES) never reads X-Forwarded-For, so "*" is only a logging choice.
    forwarded_allow_ips: str = "127.0.0.1"
    # Abuse limits: Host header allowlist and each listener's write quota (per replica).
    allowed_hosts: str = "localhost,127.0.0.1,testserver"
    write_quota_per_minute: float = Field(60.0, gt=0)
    write_quota_burst: int = Field(20, ge=1)
    # Admin writes (catalogue and listener records) draw on their own bucket per admin.
    admin_write_quota_per_minute: float = Field(120.0, gt=0)
    admin_write_quota_burst: int = Field(30, ge=1)
    # Online metrics (docs/ARCHITECTURE.md "Impressions"): what was shown, written in batches.
    impressions_enabled: bool = True
    impressions_retention_days: float = Field(90.0, gt=0)
    impressions_flush_ms: int = Field(500, ge=10, le=60_000)
    impressions_batch_rows: int = Field(500, ge=1, le=100_000)
    # Champion/challenger on live traffic: this share of listeners (by a hash of their id) is
    # answered by the Bento at CHALLENGER_URL (empty: no challenger).
    challenger_url: str = ""
    challenger_percent: float = Field(0.0, ge=0, le=100)

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def allowed_host_list(self) -> list[str]:
        return [host.strip() for host in self.allowed_hosts.split(",") if host.strip()]

    @property
    def sqlalchemy_url(self) -> str:
        """`postgresql://` URLs get the psycopg 3 driver, the only one installed."""
        for prefix in ("postgresql://", "postgres://"):
            if self.database_url.startswith(prefix):
                return "postgresql+psycopg://" + self.database_url[len(prefix):]
        return self.database_url
