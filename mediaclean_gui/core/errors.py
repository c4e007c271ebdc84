"""Known errors: the world's fault, shown to the user as one sentence (DESIGN "Errors")."""

from __future__ import annotations


class KnownError(Exception):
    """An expected failure with a message a user can act on.

    ``exit_code`` follows the CLI contract (SPEC section 4): 2 usage or
    configuration error, 3 refused by a safety rule.
    """

    exit_code = 2

    def __init__(self, message: str, *, cli_hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        #: what to type, for the command line only (the window words its own way: no flags there)
        self.cli_hint = cli_hint

    def __str__(self) -> str:
        return self.message


class ConfigError(KnownError):
    """Bad input, a broken profile, an unknown project or preference."""

    exit_code = 2


class NotFound(ConfigError):
    """A project, plan, remote or file named by the user does not exist."""


class SafetyRefusal(KnownError):
    """A safety rule (SPEC section 3) refused the operation; nothing was changed."""

    exit_code = 3


class CatalogLocked(SafetyRefusal):
    """Another process holds the catalog's writer lock (invariant 9)."""


class CatalogUnusable(ConfigError):
    """The catalog or its lock file cannot be used as it is (a link, a folder, read-only, not a catalog, ...).

    Raised before anything was changed; the message says what to do.
    """


class CatalogTooNew(KnownError):
    """The catalog was written by a newer mediaclean; it is left untouched."""

    exit_code = 2
