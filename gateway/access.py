"""Who may do what, as FastAPI dependencies; the one place the access rules live.

| caller                      | may                                                          |
|-----------------------------|--------------------------------------------------------------|
| anyone (anonymous)          | browse the catalogue, similar playlists, popular picks       |
| a signed-in listener        | the above, plus everything under /api/me (as themselves only)|
| an admin (AUTH_ADMIN_GROUP) | the above, plus /api/users... (any listener)                 |
| demo mode (loopback only)   | everyone is admin-equivalent, as before identities existed   |
"""
from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

import datarules
from gateway.identity import Identity, unauthorized
from gateway.schemas import UserIdPath

audit_log = logging.getLogger("gateway.audit")


async def current_identity(request: Request) -> Identity:
    """In jwt mode in a worker thread (a JWKS fetch blocks); demo and proxy modes only read
    headers, so inline (a thread hop per request cost more than the work)."""
    authenticator = request.app.state.authenticator
    identity = await run_in_threadpool(authenticator.identify, request) \
        if authenticator.blocks else authenticator.identify(request)
    request.state.identity = identity
    return identity


IdentityDep = Annotated[Identity, Depends(current_identity)]


def require_listener(request: Request, identity: IdentityDep) -> Identity:
    """A signed-in listener; their record is created on their first request (a write: sync, so
    FastAPI runs it in a worker thread)."""
    if identity.subject is None:
        raise unauthorized("sign in first" if request.app.state.settings.auth_mode != "demo"
                           else "pick a listener first (X-Demo-User)")
    request.app.state.store.ensure_user(identity.subject, display_name(identity))
    return identity


def display_name(identity: Identity) -> str:
    """The new record's name; export writes names to CSV, so never one a spreadsheet runs."""
    name = (identity.name or identity.subject or "").strip()[:200]
    return "listener" if not name or datarules.looks_like_formula(name) else name


async def require_admin(identity: IdentityDep) -> Identity:
    """Acting on other listeners: 401 when anonymous, 403 when signed in without the group."""
    if identity.admin:
        return identity
    if identity.subject is None:
        raise unauthorized("sign in first")
    raise HTTPException(403, "only admins may do this")


AdminDep = Annotated[Identity, Depends(require_admin)]


def allow_self_or_admin(identity: Identity, user_id: str) -> Identity:
    if identity.admin or (identity.subject is not None and identity.subject == user_id):
        return identity
    if identity.subject is None:
        raise unauthorized("sign in first")
    raise HTTPException(403, "listeners may only act as themselves; only admins may act on "
                             "other listeners")


async def require_self_or_admin(
        identity: IdentityDep,
        user_id: UserIdPath) -> Identity:
    """Routes under /api/users/{user_id}: that listener themselves, or an admin."""
    return allow_self_or_admin(identity, user_id)


def quota_key(request: Request, identity: Identity) -> str:
    """Whose budget a write spends: the signed-in subject, else (demo mode's anonymous
    admin-equivalent callers) the peer address."""
    if identity.subject is not None:
        return identity.subject
    return f"peer:{request.client.host if request.client else '-'}"


async def write_quota(request: Request, identity: IdentityDep) -> Identity:
    """Each caller's writes go through a token bucket (gateway.quota); 429 when empty."""
    request.app.state.write_quota.take(quota_key(request, identity))
    return identity


async def admin_write(request: Request, identity: AdminDep) -> Identity:
    """An admin's write: allowed (require_admin), then from the admins' own bucket."""
    request.app.state.admin_write_quota.take(quota_key(request, identity))
    return identity


async def no_store(response: Response) -> None:
    """Answers about one listener must never sit in a shared cache."""
    response.headers["Cache-Control"] = "no-store"


def audit(request: Request, action: str, **fields) -> None:
    """One JSON line per write: who (subject, or `demo` for demo mode's anonymous
    admin-equivalent callers), what, and (from the logging context) the request id."""
    identity: Identity | None = getattr(request.state, "identity", None)
    actor = identity.subject if identity and identity.subject else "anonymous-demo"
    audit_log.info("audit", extra={"actor": actor, "action": action,
                                   "admin": bool(identity and identity.admin), **fields})


ListenerDep = Annotated[Identity, Depends(require_listener)]
SelfOrAdminDep = Annotated[Identity, Depends(require_self_or_admin)]
WriteQuotaDep = Annotated[Identity, Depends(write_quota)]
AdminWriteDep = Annotated[Identity, Depends(admin_write)]
