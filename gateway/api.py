"""Sign-up, sign-in, token refresh and the signed-in person's account."""
from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from linli.auth import issue_access_token
from linli.config import settings
from linli.errors import ApiError, conflict
from linli.web import requires

from . import accounts
from .schemas import AccountSchema, LoginIn, RefreshIn, RegisterIn, TokensSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and sign-in")


def _account_out(account: dict) -> dict:
    return {**account, "id": account["_id"]}


def _tokens(account: dict, refresh: str) -> dict:
    return {"access_token": issue_access_token(account["_id"], account["role"], account["name"],
                                               tuple(account.get("tags", ()))),
            "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": settings().access_token_minutes * 60, "account": _account_out(account)}


@blp.route("/auth/register", methods=["POST"])
@blp.arguments(RegisterIn)
@blp.response(201, TokensSchema)
def register(body):
    """Creates a resident, provider or volunteer account and signs it in."""
    db = accounts.database()
    try:
        account = accounts.create(db, body["username"], body["password"], body["name"], body["role"])
    except accounts.UsernameTaken:
        raise conflict("This username is taken; choose another.", username=["taken"])
    return _tokens(account, accounts.issue_refresh(db, account["_id"]))


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, TokensSchema)
def login(body):
    """Signs in with username and password."""
    db = accounts.database()
    account = accounts.authenticate(db, body["username"], body["password"])
    if account is None:
        raise ApiError(401, "bad_credentials", "The username or the password is wrong.")
    return _tokens(account, accounts.issue_refresh(db, account["_id"]))


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(RefreshIn)
@blp.response(200, TokensSchema)
def refresh(body):
    """Trades a refresh token for new tokens; each refresh token works once."""
    db = accounts.database()
    try:
        account_id, new_refresh = accounts.rotate_refresh(db, body["refresh_token"])
    except accounts.RefreshRefused:
        raise ApiError(401, "unauthenticated", "Your session has ended; please sign in again.")
    account = db.accounts.find_one({"_id": account_id})
    if account is None:
        raise ApiError(401, "unauthenticated", "Your session has ended; please sign in again.")
    return _tokens(account, new_refresh)


@blp.route("/me")
@requires()
@blp.response(200, AccountSchema)
def me():
    """The signed-in account."""
    account = accounts.database().accounts.find_one({"_id": g.principal.id})
    if account is None:
        raise ApiError(401, "unauthenticated", "This account no longer exists.")
    return _account_out(account)
