"""Delivery's pure rules: no I/O, no clock of their own, no database."""
