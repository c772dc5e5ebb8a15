"""Sign-up, sign-in, refresh, sign-out, and one's own account."""
from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from linli.config import settings
from linli.domain_errors import NotFound
from linli.errors import ApiError
from linli.web import idempotent, requires

from .. import commands
from ..adapters import catalog, services
from ..rules.signin import AccountDisabled, BadCredentials, SlowDown
from ..schemas import AccountDetail, LoginIn, LogoutIn, ProfileSchema, RefreshIn, RegisterIn, TokensSchema
from . import database, units

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and sign-in")

SIGNED_OUT = "Your session has ended; please sign in again."


def account_out(account: dict, relatives: list[dict] | None = None) -> dict:
    out = {**account, "id": account["_id"]}
    if relatives is not None:
        out["family_of"] = [{"id": r["_id"], "name": r["name"], "tags": r.get("tags", [])} for r in relatives]
    return out


def tokens_out(tokens: dict) -> dict:
    return {**tokens, "token_type": "Bearer", "expires_in": settings().access_token_minutes * 60,
            "account": account_out(tokens["account"])}


def slow_down(error: SlowDown) -> ApiError:
    wait = error.wait_seconds
    return ApiError(429, "rate_limited", f"Too many attempts. Please wait {-(-wait // 60)} minute(s) and try again.",
                    {"retry_after_seconds": wait}, headers={"Retry-After": str(wait)})


def _address() -> str:
    return request.remote_addr or "-"


@blp.route("/auth/register", methods=["POST"])
@blp.arguments(RegisterIn)
@blp.response(201, TokensSchema)
def register(body):
    """Creates a resident, provider or volunteer account and signs it in."""
    try:
        return tokens_out(commands.sign_up(units(), body["username"], body["password"], body["name"], body["role"],
                                           _address(), settings().signup_limit))
    except SlowDown as error:
        raise slow_down(error)


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, TokensSchema)
def login(body):
    """Signs in with username and password. Failures slow down further tries of this account from this address,
    and from this address altogether; never the owner signing in from a place they used before."""
    try:
        return tokens_out(commands.sign_in(units(), body["username"], body["password"], _address()))
    except SlowDown as error:
        raise slow_down(error)
    except BadCredentials:
        raise ApiError(401, "bad_credentials", "The username or the password is wrong.")
    except AccountDisabled:
        raise ApiError(403, "account_disabled", "This account has been disabled. Please ask an admin.")


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(RefreshIn)
@blp.response(200, TokensSchema)
def refresh(body):
    """Trades a refresh token for new tokens; each works once, and a reused one ends the whole session."""
    try:
        return tokens_out(commands.refresh(units(), body["refresh_token"]))
    except commands.RefreshRefused:
        raise ApiError(401, "unauthenticated", SIGNED_OUT)


@blp.route("/auth/logout", methods=["POST"])
@blp.arguments(LogoutIn)
@blp.response(204)
def logout(body):
    """Signs out: the refresh token and every token refreshed from it stop working."""
    commands.sign_out(units(), body["refresh_token"])


@blp.route("/me")
@requires()
@blp.response(200, AccountDetail)
def me():
    """The signed-in account, its profile, and the elders it may order for."""
    try:
        return account_out(*commands.me(units(), g.principal))
    except NotFound:
        raise ApiError(401, "unauthenticated", "This account no longer exists.")


@blp.route("/me/profile", methods=["PUT"])
@requires()
@idempotent(database)
@blp.arguments(ProfileSchema)
@blp.response(200, AccountDetail)
def update_profile(body):
    """Community, addresses, birth year, phone and emergency contact, each community one Linli serves
    (GET /api/v1/catalog/communities). Eligibility tags are not set here."""
    try:
        return account_out(*commands.update_own_profile(units(), g.principal, body, catalog.serves))
    except services.Unavailable:
        raise ApiError(503, "unavailable", "The communities cannot be checked just now. Please try again in a minute.",
                       {"service": "catalog"})
