"""The live stream: server-sent events per signed-in person, numbered by the messages' own numbers.

One hub per web process reads "messages after n" every `interval` seconds and hands each new
message to the open streams of its recipient. A stream first subscribes, then sends what the
client missed (everything after its Last-Event-ID), then what the hub hands it, skipping numbers
it already sent: since messages are numbered in commit order, a reconnecting client misses
nothing. The web process runs gunicorn's gevent worker (deploy/Procfile), so an open stream is a
parked greenlet and a socket, not a thread.

A stream opens with the person's token (`Authorization: Bearer`), or, from the pages, whose browser holds no
token, with a one-use ticket (`POST /stream/tickets`, then `GET /stream?ticket=...`). A token's stream ends when
the token expires and a ticket's after `commands.TICKET_STREAM_SECONDS`: the client comes back from its last id
with a fresh one, so a person signed out or disabled stops hearing within an access token's lifetime.
"""
from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
from collections import defaultdict

from flask import Response, current_app, g, request

from linli.errors import ApiError
from linli.web import current_principal, requires

from .. import commands, store
from ..rules.who import stream_recipients
from ..schemas import StreamTicketOut
from . import blp

log = logging.getLogger("notify.stream")

HEARTBEAT_SECONDS = 15
QUEUE_MAX = 1000
BACKLOG_PAGE = 500


class Hub:
    def __init__(self, db, interval: float = 0.1, heartbeat: float = HEARTBEAT_SECONDS):
        self.db = db
        self.interval = interval
        self.heartbeat = heartbeat
        self.cursor = 0
        self._listeners: dict[str, set[queue.Queue]] = defaultdict(set)
        self._lock = threading.Lock()
        self._started = False
        self._stop = threading.Event()

    @property
    def open_streams(self) -> int:
        with self._lock:
            return len({id(q) for qs in self._listeners.values() for q in qs})

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self.cursor = store.last_seq(self.db)
            self._started = True
        threading.Thread(target=self._run, name="notify-hub", daemon=True).start()

    def subscribe(self, recipients: list[str]) -> tuple[queue.Queue, int]:
        self.start()
        listener: queue.Queue = queue.Queue(maxsize=QUEUE_MAX)
        with self._lock:
            for r in recipients:
                self._listeners[r].add(listener)
            return listener, self.cursor

    def unsubscribe(self, recipients: list[str], listener: queue.Queue) -> None:
        with self._lock:
            for r in recipients:
                self._listeners[r].discard(listener)
                if not self._listeners[r]:
                    del self._listeners[r]

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = store.messages_after(self.db, self.cursor, 1000)
            except Exception as error:  # the database blinked: try again shortly
                log.warning("stream hub could not read messages: %r", error)
                self._stop.wait(1)
                continue
            for message in batch:
                with self._lock:
                    targets = list(self._listeners.get(message["recipient"], ()))
                    self.cursor = message["seq"]
                for listener in targets:
                    try:
                        listener.put_nowait(message)
                    except queue.Full:  # a client that stopped reading: close it; it resumes from its last id
                        self._overflow(listener)
            if len(batch) < 1000:
                self._stop.wait(self.interval)

    @staticmethod
    def _overflow(listener: queue.Queue) -> None:
        try:
            while True:
                listener.get_nowait()
        except queue.Empty:
            pass
        listener.put_nowait(None)


def _frame(message: dict) -> str:
    data = {"id": message["_id"], "seq": message["seq"], "kind": message["kind"], "urgency": message["urgency"],
            "title": message["title"], "body": message["body"], "refs": message.get("refs", {}),
            "recipient": message["recipient"], "created_at": message["created_at"].isoformat()}
    return f"id: {message['seq']}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream_of(hub: Hub, recipients: list[str], last_id: int | None, until: float | None = None):
    """The stream's lines; with `until` (time.monotonic()), it ends then, after what was sent."""
    listener, cursor = hub.subscribe(recipients)
    try:
        yield f"retry: 2000\n: connected; messages after {cursor if last_id is None else last_id}\n\n"
        sent = cursor if last_id is None else last_id
        if last_id is not None:
            while True:
                backlog = store.messages_after(hub.db, sent, BACKLOG_PAGE, recipients)
                for message in backlog:
                    yield _frame(message)
                    sent = message["seq"]
                if len(backlog) < BACKLOG_PAGE:
                    break
        while True:
            wait = hub.heartbeat if until is None else min(hub.heartbeat, until - time.monotonic())
            if wait <= 0:
                yield ": this stream ends here; open a new one from the last id\n\n"
                return
            try:
                message = listener.get(timeout=wait)
            except queue.Empty:
                yield ": keepalive\n\n"
                continue
            if message is None:
                return
            if message["seq"] <= sent:
                continue
            yield _frame(message)
            sent = message["seq"]
    finally:
        hub.unsubscribe(recipients, listener)


TICKET_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")


def _hub() -> Hub:
    return current_app.extensions["notify"].hub


def _last_event_id() -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(422, "validation_failed", "Last-Event-ID: a message number, as the stream sent it.",
                       {"Last-Event-ID": ["a message number, as the stream sent it"]})
    return int(raw)


@blp.route("/stream/tickets", methods=["POST"])
@requires()
@blp.response(201, StreamTicketOut)
def stream_ticket():
    """A one-use ticket, good for a minute, that opens my live stream as `GET /stream?ticket=...`: for a
    browser that holds no token (the pages keep it on their server). The stream starts after the newest
    message at the ticket's issue."""
    who = g.principal
    after = store.last_seq(_hub().db)
    return current_app.extensions["notify"].units.run(lambda u: commands.issue_stream_ticket(u, who, after))


def _token_or_ticket(view):
    """The OpenAPI document says what `requires()` would say (anyone signed in), and that a ticket works too."""
    view._apidoc = {"manual_doc": {"x-roles": [], "security": [{"bearer": []}, {}],
                                   "parameters": [{"name": "ticket", "in": "query", "required": False,
                                                   "schema": {"type": "string"}},
                                                  {"name": "last_event_id", "in": "query", "required": False,
                                                   "schema": {"type": "integer", "minimum": 0}}]}}
    return view


@blp.route("/stream", methods=["GET"])
@_token_or_ticket
def stream():
    """Server-sent events: my messages as they come, numbered; send Last-Event-ID (or `last_event_id`) to
    resume without a gap. Opened with my token, or with a ticket from `POST /stream/tickets` (`?ticket=`):
    a ticket works once, and its stream ends after 15 minutes."""
    last_id = _last_event_id()
    ticket = request.args.get("ticket")
    until = None
    if ticket is not None and "Authorization" not in request.headers:
        opened = None
        if TICKET_SHAPE.fullmatch(ticket):
            opened = current_app.extensions["notify"].units.run(lambda u: commands.redeem_stream_ticket(u, ticket))
        if opened is None:
            raise ApiError(401, "unauthenticated", "This stream ticket is not valid, was used already or has "
                                                   "expired. Please ask for a new one.")
        recipients = opened["recipients"]
        last_id = opened["after"] if last_id is None else last_id
        until = time.monotonic() + commands.TICKET_STREAM_SECONDS
    else:
        who = current_principal()
        if who is None:
            raise ApiError(401, "unauthenticated", "Please sign in first.")
        recipients = stream_recipients(who.id, who.role, who.communities)
        if who.expires_at is not None:  # it ends with its token: the client comes back with a fresh one (from
            until = time.monotonic() + max(0.0, who.expires_at - time.time())  # its last id), or not at all
    hub = _hub()
    # the hub's first read happens here, before the answer starts: a database out of reach is a 503 with
    # Retry-After (linli.web), not a stream cut off before its first line (the bench under load saw both)
    hub.start()
    return Response(stream_of(hub, recipients, last_id, until), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

