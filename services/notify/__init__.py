"""Notify: tells each person what needs them — in the app's inbox and live stream, by SMS and by
WeChat subscription message — from the events the other services publish."""
