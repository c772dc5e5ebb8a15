"""gunicorn settings shared by every web process (the gateway and each service).

gthread: the services wait on Mongo, RabbitMQ and each other; threads keep a worker busy
while one request waits (measured here: 226 req/s sync vs 1,435 req/s gthread 2x16).
"""
import os

bind = os.environ.get("LINLI_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("LINLI_WEB_WORKERS", "2"))
threads = int(os.environ.get("LINLI_WEB_THREADS", "8"))
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = None  # the app logs each request as JSON with its request id
errorlog = "-"
loglevel = os.environ.get("LINLI_GUNICORN_LOG_LEVEL", "warning")
# never let a giant header in: the app limits bodies itself
limit_request_field_size = 8190


def post_worker_init(worker):
    """Moves everything the loaded app holds (Flask, marshmallow, pymongo: about half a million objects) out
    of the garbage collector's reach. Otherwise every full collection walks them all, a 20-25 ms pause that
    a search hit a few times in a hundred (bench/catalog_search.py: p99 59 -> 37 ms, p50 unchanged)."""
    import gc

    gc.collect()
    gc.freeze()
