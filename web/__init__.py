"""Linli's pages: a Flask app that renders on the server and talks to the gateway's public API only,
with the signed-in person's own tokens. It owns no business data: only sessions and preferences."""
