"""The server-side session: an HttpOnly, SameSite=Lax cookie holding a random id; the data, the person's
tokens and their renewal live in `web.store`. `person()` is the API as the signed-in person."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from . import store
from .adapters.gateway import ApiProblem, Gateway, Person, SignedOut

COOKIE = "linli_session"


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, sid: str, data: dict | None = None, doc: dict | None = None, new: bool = False):
        def changed(_):
            self.modified = True

        super().__init__(data or {}, changed)
        self.sid, self.doc, self.new, self.modified = sid, doc or {}, new, False


class MongoSessions(SessionInterface):
    def open_session(self, app: Flask, request) -> ServerSession:
        sid = request.cookies.get(COOKIE)
        started = time.perf_counter()
        doc = store.load_session(store.database(), sid) if sid else None
        g.session_ms = (time.perf_counter() - started) * 1000
        if doc is None:
            return ServerSession(store.new_session_id(), new=True)
        return ServerSession(sid, doc.get("data"), doc)

    def save_session(self, app: Flask, session: ServerSession, response) -> None:
        db = store.database()
        if session.modified or (session.new and session):
            store.save_session_data(db, session.sid, dict(session))
        elif not session.new:
            store.touch_session(db, session.sid, session.doc.get("expires_at"))
        if session.new and not session and not getattr(g, "signed_in_now", False):
            return
        response.set_cookie(COOKIE, session.sid, max_age=store.SESSION_DAYS * 86400, httponly=True, samesite="Lax",
                            secure=request.scheme == "https", path="/")
        response.vary.add("Cookie")


def gateway() -> Gateway:
    return current_app.extensions["linli_gateway"]


def account() -> dict | None:
    from flask import session

    return session.doc.get("account") if session.doc.get("tokens") else None


def signed_in(tokens: dict) -> None:
    from flask import session

    db = store.database()
    planted = session.sid
    # a new id at every sign-in, and a new form token: an id (or a form token) someone saw or set before this
    # person signed in gives them nothing afterwards (session fixation)
    session.sid = store.new_session_id()
    session.pop("csrf_token", None)
    store.sign_in(db, session.sid, tokens, tokens["account"])
    store.forget_session(db, planted)
    session.doc = store.load_session(db, session.sid) or {}
    session.new = False
    session.modified = True
    g.signed_in_now = True


def person() -> Person:
    from flask import session

    if not session.doc.get("tokens"):
        raise SignedOut()
    sid = session.sid

    def access() -> str:
        tokens = session.doc["tokens"]
        until = tokens["access_until"].replace(tzinfo=timezone.utc)
        return tokens["access"] if until > datetime.now(timezone.utc) else renew()

    def renew() -> str:
        db = store.database()
        spent = session.doc["tokens"]["refresh"]
        if store.claim_refresh(db, sid, spent):
            try:
                fresh = gateway().refresh(spent)
            except ApiProblem as problem:
                store.release_refresh(db, sid)
                if problem.status == 401:
                    store.sign_out(db, sid)
                    raise SignedOut()
                raise
            store.renewed(db, sid, fresh)
        else:
            # another request of this session is renewing: wait for its tokens
            for _ in range(40):
                doc = store.load_session(db, sid) or {}
                if (doc.get("tokens") or {}).get("refresh") != spent or not doc.get("refreshing_until"):
                    break
                time.sleep(0.1)
        session.doc = store.load_session(db, sid) or {}
        if not session.doc.get("tokens"):
            raise SignedOut()
        return session.doc["tokens"]["access"]

    return Person(gateway(), access, renew, request_id=request.headers.get("X-Request-ID"))


def needs_sign_in():
    if request.headers.get("HX-Request"):
        # a live part of a page whose session ended (signed out in another tab, or expired): the whole page goes
        # to sign in and comes back to itself after, rather than the sign-in form drawn inside the part
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = page.path + (f"?{page.query}" if page.query else "") if page.path else "/"
        return "", 204, {"HX-Redirect": url_for("everyone.sign_in", next=back)}
    return redirect(url_for("everyone.sign_in", next=request.full_path.rstrip("?")))
