"""Staff accounts: users, passwords, memberships, sessions and API tokens (one module per job below).

Everything goes through a `TenantScope`: an account, its session and its
tokens exist in one tenant only, so a token of one city is simply unknown
in another.

- Passwords are hashed with argon2id (`argon2.PasswordHasher` defaults); a
  hash made with older parameters is replaced at the next successful login.
  An unknown e-mail costs the same work as a wrong password (a dummy hash is
  verified) and gets the same answer.
- Sessions (browser cookies) and API tokens are random
  (`secrets.token_urlsafe(32)`); only their SHA-256 is stored, so a copy of
  the database logs no one in.
- A session lasts `SESSION_TTL` from login (fixed, not sliding: activity does
  not extend it). Changing a password or deactivating a user ends all of
  their sessions; deactivating also revokes their tokens.

- Refused logins are counted per (e-mail, client address), per address and
  per e-mail (`LoginLimits`): past a limit, logging in is refused (429) for
  a while — a stranger's guesses lock out only the stranger until the much
  higher per-account ceiling, which is e-mailed to the account holder.

Errors are `ServiceError`s: 401 `invalid_credentials`, 404 `not_found`,
409 `conflict`, 422 `invalid_input`, 429 `too_many_attempts`.
"""

from komunikator.engine.service.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password,
    hash_password,
    secret_hash,
)
from komunikator.engine.service.accounts.sessions import SESSION_TTL, login, logout, user_for_session
from komunikator.engine.service.accounts.throttling import LOGIN_THROTTLED_TEMPLATE, LoginLimits
from komunikator.engine.service.accounts.tokens import (
    LAST_USED_PRECISION,
    create_token,
    revoke_token,
    tokens_of,
    user_for_token,
)
from komunikator.engine.service.accounts.users import (
    audit_actor,
    check_locale,
    check_membership,
    create_user,
    deactivate,
    find_user,
    get_user,
    grant,
    list_users,
    memberships_of,
    normalize_email,
    revoke,
    set_locale,
    set_password,
)

__all__ = [
    "LAST_USED_PRECISION", "LOGIN_THROTTLED_TEMPLATE", "MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "SESSION_TTL",
    "LoginLimits", "audit_actor", "check_locale", "check_membership", "check_password", "create_token",
    "create_user", "deactivate", "find_user", "get_user", "grant", "hash_password", "list_users", "login", "logout",
    "memberships_of", "normalize_email", "revoke", "revoke_token", "secret_hash", "set_locale", "set_password",
    "tokens_of", "user_for_session", "user_for_token",
]
