"""Collectors: each module turns one kind of public source into ``Post`` records."""
