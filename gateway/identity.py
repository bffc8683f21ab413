"""Who a request speaks for, under each AUTH_MODE (README "Auth modes").

- demo:  the listener the UI picked (`X-Demo-User`); everyone is admin-equivalent, so this mode
         only serves loopback unless AUTH_DEMO_ALLOW_REMOTE=true (checked in gateway.startup).
- proxy: oauth2-proxy's `X-Auth-Request-User/-Email/-Groups`, believed only from a peer in
         AUTH_TRUSTED_PROXIES; any other peer sending them is refused (403), not ignored, so a
         misrouted deployment fails loudly instead of silently serving everyone as anonymous.
- jwt:   `Authorization: Bearer`, verified by PyJWT against the issuer's JWKS.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import jwt
from fastapi import HTTPException, Request

import datarules
from gateway.peer import peer_host
from gateway.settings import Settings

DEMO_USER_HEADER = "x-demo-user"
PROXY_HEADERS = ("x-auth-request-user", "x-auth-request-email", "x-auth-request-groups")
# Asymmetric only: an HS* token "signed" with the public key must never verify.
JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
JWKS_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Identity:
    """`subject` is the listener id (None: anonymous); `admin` may act on other listeners."""

    subject: str | None
    name: str = ""
    email: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False


def unauthorized(detail: str, bearer: bool = False) -> HTTPException:
    challenge = f'Bearer error="invalid_token", error_description="{detail}"' if bearer \
        else "Bearer"
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


def checked_subject(subject: str) -> str:
    """The subject becomes the listener id, so it must be a valid id (403 otherwise)."""
    problem = datarules.id_problem(subject)
    if problem:
        raise HTTPException(403, f"the identity's subject is not a valid listener id: {problem}")
    return subject


def proxy_header(request: Request, name: str) -> str:
    """One of oauth2-proxy's headers as the UTF-8 it sends (HTTP carries bytes; Starlette hands
    them over as latin-1, which made the UTF-8 `josé` the listener `josÃ©`). Bytes that are
    not UTF-8 are refused (400), never guessed at."""
    value = request.headers.get(name, "")
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, f"the {name} header is not valid UTF-8") from None


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """AUTH_TRUSTED_PROXIES: comma-separated addresses or CIDRs; a typo stops startup."""
    return [ipaddress.ip_network(item.strip(), strict=False)
            for item in text.split(",") if item.strip()]


class Authenticator:
    """Turns a request into an Identity; built once per app from the settings."""

    def __init__(self, settings: Settings):
        self.mode = settings.auth_mode
        self.admin_group = settings.auth_admin_group
        self.groups_claim = settings.auth_groups_claim
        self.trusted_proxies = parse_networks(settings.auth_trusted_proxies)
        self.issuer, self.audience = settings.auth_jwt_issuer, settings.auth_jwt_audience
        self.jwks = None
        if self.mode == "jwt":
            missing = [name for name, value in (("AUTH_JWKS_URL", settings.auth_jwks_url),
                                                ("AUTH_JWT_ISSUER", self.issuer),
                                                ("AUTH_JWT_AUDIENCE", self.audience)) if not value]
            if missing:
                raise ValueError(f"AUTH_MODE=jwt needs {', '.join(missing)}")
            # Caches the key set; a token with an unknown kid makes it fetch again (rotation),
            # at most once per cooldown, so forged kids cannot hammer the issuer.
            self.jwks = jwt.PyJWKClient(
                settings.auth_jwks_url, cache_jwk_set=True, lifespan=JWKS_CACHE_SECONDS,
                timeout=5, cooldown_duration=settings.auth_jwks_cooldown_seconds)

    @property
    def blocks(self) -> bool:
        """identify may wait on the network (a JWKS fetch): call it from a worker thread."""
        return self.mode == "jwt"

    def identify(self, request: Request) -> Identity:
        """Blocking in jwt mode (a JWKS fetch): call it from a worker thread."""
        if self.mode == "demo":
            picked = request.headers.get(DEMO_USER_HEADER, "").strip()
            return Identity(checked_subject(picked) if picked else None, name=picked, admin=True)
        if self.mode == "proxy":
            return self._from_proxy(request)
        return self._from_bearer(request)

    def _groups_identity(self, subject: str, name: str, email: str, groups) -> Identity:
        groups = frozenset(group.strip() for group in groups if group and group.strip())
        return Identity(checked_subject(subject), name=name or subject, email=email,
                        groups=groups, admin=self.admin_group in groups)

    def peer_is_trusted(self, request: Request) -> bool:
        """By the socket peer (gateway.peer), never an address X-Forwarded-For names."""
        host = peer_host(request.scope)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.trusted_proxies)

    def _from_proxy(self, request: Request) -> Identity:
        sent = [name for name in PROXY_HEADERS if name in request.headers]
        if not sent:
            return Identity(None)
        if not self.peer_is_trusted(request):
            raise HTTPException(403, "identity headers are accepted only from the "
                                     "authenticating proxy (AUTH_TRUSTED_PROXIES)")
        user, email, groups = (proxy_header(request, name).strip() for name in PROXY_HEADERS)
        if not user:
            return Identity(None)
        return self._groups_identity(user, email or user, email, groups.split(","))

    def _from_bearer(self, request: Request) -> Identity:
        header = request.headers.get("authorization", "")
        if not header:
            return Identity(None)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("expected an Authorization: Bearer token")
        try:
            key = self.jwks.get_signing_key_from_jwt(token.strip())
            claims = jwt.decode(token.strip(), key.key, algorithms=JWT_ALGORITHMS,
                                audience=self.audience, issuer=self.issuer, leeway=10,
                                options={"require": ["exp", "iss", "aud", "sub"]})
        except jwt.PyJWKClientConnectionError:
            raise HTTPException(503, "the identity provider's keys (AUTH_JWKS_URL) are "
                                     "unavailable; try again shortly") from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as err:
            raise unauthorized(token_problem(err), bearer=True) from None
        except (jwt.PyJWKSetError, ValueError):  # the endpoint answered, but not a key set
            raise HTTPException(503, "the identity provider's keys (AUTH_JWKS_URL) are "
                                     "unusable; try again shortly") from None
        groups = claims.get(self.groups_claim) or []
        if isinstance(groups, str):
            groups = groups.split(",")
        if not isinstance(groups, list):
            groups = []
        name = claims.get("name") or claims.get("preferred_username") or claims["sub"]
        email = claims.get("email") or ""
        return self._groups_identity(str(claims["sub"]), str(name), str(email),
                                     [str(group) for group in groups])


def token_problem(err: Exception) -> str:
    """A short, fixed reason (never the token or a stack) for the 401 and its challenge."""
    reasons = [(jwt.ExpiredSignatureError, "the token has expired"),
               (jwt.InvalidAudienceError, "the token is for another audience"),
               (jwt.InvalidIssuerError, "the token is from another issuer"),
               (jwt.InvalidSignatureError, "the token's signature does not verify"),
               (jwt.MissingRequiredClaimError, "the token lacks a required claim"),
               (jwt.PyJWKClientError, "the token's signing key is unknown to the issuer")]
    return next((reason for kind, reason in reasons if isinstance(err, kind)),
                "the token is malformed")
