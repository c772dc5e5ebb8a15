"""Notify's pure rules: who is told what (who.py), the texts (texts.py), channels, quiet hours and
fallbacks (channels.py), retries (sending.py) and the shape of a WeChat subscription message (wechat.py)."""
