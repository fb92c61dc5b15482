"""Scoring: one encoder pass per post feeding the heads, locality resolution and narrative matching."""
