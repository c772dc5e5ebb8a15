"""A probe consumer that dies (SIGKILL) right after its handler's transaction commits and
before it acknowledges: the window where at-least-once delivery brings the message back."""
import os
import signal
import threading

from linli import consumer
from tests.integration.messaging import RunningConsumer, probe_db

_real_apply_once = consumer.apply_once


def apply_then_die(*args, **kwargs):
    _real_apply_once(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    consumer.apply_once = apply_then_die
    with RunningConsumer(probe_db()):
        threading.Event().wait(60)
