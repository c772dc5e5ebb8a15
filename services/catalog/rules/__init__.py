"""Catalog's pure rules: no I/O, no clock, no HTTP; each module one concept."""
