"""Search tokens, without I/O: the embedded Mongo server has no text index, so catalog indexes its own.

Chinese has no spaces between words, so a run of Han characters becomes its single characters
and its character bigrams ("爱心午餐" → 爱 心 午 餐 爱心 心午 午餐); a query of two or more
characters is matched by its bigrams, a one-character query by the character. Other scripts
become lower-case words. A listing matches when it holds every token of the query.
"""
from __future__ import annotations

import re

_HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_HAN_CHARS}]+|[^\W_{_HAN_CHARS}]+")
_HAN = re.compile(rf"[{_HAN_CHARS}]")
MAX_QUERY_TOKENS = 20


def _runs(text: str) -> list[str]:
    return _RUN.findall(text.lower())


def _bigrams(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)]


def index_tokens(*texts: str) -> list[str]:
    """Every token a listing can be found by, once each."""
    out: set[str] = set()
    for text in texts:
        for run in _runs(text):
            if _HAN.match(run):
                out.update(run)
                out.update(_bigrams(run))
            else:
                out.add(run)
    return sorted(out)


def query_tokens(q: str) -> list[str]:
    """The tokens a listing must all hold to match `q`."""
    out: list[str] = []
    for run in _runs(q):
        if _HAN.match(run):
            out.extend(_bigrams(run) if len(run) > 1 else [run])
        else:
            out.append(run)
    return list(dict.fromkeys(out))[:MAX_QUERY_TOKENS]
