"""Who may see and change what: local accounts, roles, sessions, CSRF, API tokens.

* Accounts are local (``tension users add``), passwords hashed with argon2id. Roles include
  the ones before them: viewer (read) < officer (acknowledge, silence, triage reports) <
  analyst (rules, backtests, narratives, briefings, feedback, raw post text) < admin (users,
  audit log).
* A browser session is a signed cookie (itsdangerous) holding the user id, role and a CSRF
  token; HttpOnly, SameSite=Strict, and Secure whenever the browser came over HTTPS (directly
  or via the reverse proxy's X-Forwarded-Proto). Every state-changing request with a session must carry that CSRF token (form
  field ``csrf`` or header ``X-CSRF-Token``); requests with an API token carry no cookie and
  need none.
* API tokens (``Authorization: Bearer``) are stored as SHA-256 and act with their user's role.
* Failed logins are limited per username and per address (5 in 15 minutes), in memory: enough
  for one service process, and a restart does not lock anyone out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from monitor import audit
from monitor.errors import TensionError
from monitor.privacy import secret_file
from monitor.store import Store
from monitor.store.schema import api_tokens, users

ROLES = ("viewer", "officer", "analyst", "admin")
SESSION_COOKIE = "tension_session"
SESSION_MAX_AGE = 12 * 3600  # a working day; then log in again
KEY_FILE = "web.key"
_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    csrf: str = ""  # the session's CSRF token ("" for API-token requests)
    via_token: bool = False

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


class NotAuthenticated(Exception):
    """No valid session or token: pages redirect to the login page, the API answers 401."""


class Forbidden(Exception):
    def __init__(self, role: str):
        super().__init__(f"this needs the {role} role")
        self.role = role


class CsrfFailed(Exception):
    pass


# -- accounts ---------------------------------------------------------------------------------

def add_user(store: Store, username: str, password: str, role: str, *, by: str, now: dt.datetime) -> int:
    if role not in ROLES:
        raise TensionError(f"role {role!r}: use one of {', '.join(ROLES)}")
    if len(password) < 12:
        raise TensionError("the password needs at least 12 characters")
    if not username.strip() or len(username) > 120:
        raise TensionError("the username must be 1-120 characters")
    with store.transaction() as conn:
        if conn.scalar(sa.select(users.c.id).where(users.c.username == username)) is not None:
            raise TensionError(f"user {username!r} exists already")
        user_id = conn.execute(sa.insert(users).values(
            username=username, password_hash=_hasher.hash(password), role=role, created_at=now,
            created_by=by)).inserted_primary_key[0]
        audit.record(conn, at=now, actor=by, action="user.add", object_type="user",
                     object_id=username, detail={"role": role})
    return int(user_id)


def verify_password(store: Store, username: str, password: str) -> User | None:
    with store.transaction() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == username,
                                                  users.c.disabled_at.is_(None))).mappings().first()
    if row is None:
        _hasher.hash(password)  # the same work either way: no telling which usernames exist
        return None
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        return None
    return User(int(row["id"]), row["username"], row["role"])


def add_token(store: Store, username: str, name: str, *, by: str, now: dt.datetime) -> str:
    """A new API token for the user; returned once, stored as its SHA-256."""
    token = "tm_" + secrets.token_urlsafe(32)
    with store.transaction() as conn:
        user_id = conn.scalar(sa.select(users.c.id).where(users.c.username == username))
        if user_id is None:
            raise TensionError(f"no user {username!r}")
        conn.execute(sa.insert(api_tokens).values(
            user_id=user_id, name=name, token_sha256=_sha256(token), created_at=now))
        audit.record(conn, at=now, actor=by, action="token.add", object_type="user",
                     object_id=username, detail={"name": name})
    return token


def user_for_token(store: Store, token: str, now: dt.datetime) -> User | None:
    with store.transaction() as conn:
        row = conn.execute(
            sa.select(users.c.id, users.c.username, users.c.role, api_tokens.c.id.label("token_id"))
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_sha256 == _sha256(token), api_tokens.c.revoked_at.is_(None),
                   users.c.disabled_at.is_(None))).mappings().first()
        if row is None:
            return None
        conn.execute(sa.update(api_tokens).where(api_tokens.c.id == row["token_id"])
                     .values(last_used_at=now))
    return User(int(row["id"]), row["username"], row["role"], via_token=True)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- sessions -----------------------------------------------------------------------------------

def load_or_create_secret(env_secret: str | None, data_dir: Path) -> str:
    """The cookie-signing secret: ``TENSION_WEB_SECRET`` or ``<data_dir>/web.key`` (0600)."""
    if env_secret:
        return env_secret
    return secret_file(Path(data_dir) / KEY_FILE, lambda: secrets.token_urlsafe(48).encode(),
                       "the web session key").decode()


class Sessions:
    def __init__(self, secret: str, *, always_secure: bool = False):
        self._serializer = URLSafeTimedSerializer(secret, salt="tension-session")
        self.always_secure = always_secure

    def issue(self, user: User) -> tuple[str, User]:
        signed = User(user.id, user.username, user.role, csrf=secrets.token_urlsafe(24))
        cookie = self._serializer.dumps({"uid": signed.id, "u": signed.username, "r": signed.role,
                                         "c": signed.csrf})
        return cookie, signed

    def read(self, cookie: str | None) -> User | None:
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        return User(int(data["uid"]), data["u"], data["r"], csrf=data["c"])

    def set_cookie(self, request: Request, response, cookie: str) -> None:
        """Secure whenever the browser came over HTTPS (directly or through the proxy)."""
        https = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
        response.set_cookie(SESSION_COOKIE, cookie, max_age=SESSION_MAX_AGE, httponly=True,
                            samesite="strict", secure=self.always_secure or https, path="/")


def current_user(request: Request) -> User | None:
    """The request's user from its API token or session cookie (the store is re-checked for
    tokens; a session's role is what it was at login, for at most SESSION_MAX_AGE)."""
    cached = getattr(request.state, "user", False)
    if cached is not False:
        return cached
    user = None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_token(request.app.state.store, header[7:].strip(), request.app.state.clock())
    else:
        user = request.app.state.sessions.read(request.cookies.get(SESSION_COOKIE))
    request.state.user = user
    return user


def require(role: str):
    """A dependency: the user, with at least ``role``; checks CSRF on state-changing requests."""
    async def dependency(request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise NotAuthenticated()
        if not user.can(role):
            raise Forbidden(role)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not user.via_token:
            given = request.headers.get("x-csrf-token")
            if given is None and request.headers.get("content-type", "").startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data")):
                given = (await request.form()).get("csrf")
            if not given or not hmac.compare_digest(str(given), user.csrf):
                raise CsrfFailed()
        return user
    return dependency


# -- login rate limiting --------------------------------------------------------------------

class LoginLimiter:
    """At most ``attempts`` failures per username and per client address in ``window``."""

    def __init__(self, attempts: int = 5, window: float = 900.0, clock=time.monotonic):
        self.attempts, self.window, self._clock = attempts, window, clock
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque:
        q, cutoff = self._failures[key], self._clock() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def blocked(self, username: str, address: str) -> bool:
        with self._lock:
            return any(len(self._recent(k)) >= self.attempts for k in (f"u:{username}", f"a:{address}"))

    def failed(self, username: str, address: str) -> None:
        with self._lock:
            for key in (f"u:{username}", f"a:{address}"):
                self._recent(key).append(self._clock())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{username}", None)
