"""Linli's shared library: plumbing only (config, Mongo, events, outbox, consumers, auth, web)."""
