"""One exception family for every mistake a user can make.

The CLI prints ``str(error)`` on one line and exits non-zero; nothing here carries a traceback
to the user. Code that can recover from a failure catches the specific subclass it can handle.
"""


class TensionError(Exception):
    """Base class: a problem we can explain to the user in one line."""


class ConfigError(TensionError):
    """A config file is missing, unreadable or invalid. The message names file and field."""


class StorageError(TensionError):
    """The database cannot be opened, migrated or written (including a full disk)."""


class SourceError(TensionError):
    """A collector could not fetch or parse its source. Carries an optional retry hint."""

    def __init__(self, message: str, *, retry_after: float | None = None, gone: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.gone = gone


class CredentialError(TensionError):
    """A credential a component needs is missing from the environment."""
