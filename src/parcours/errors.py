"""The parcours exception tree and the one-line problem format users read.

Library code raises these; only ``cli.main`` and ``api/errors.py`` turn them into exit codes
or HTTP bodies.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input, with where it is and how to fix it.

    Renders as ``orders.csv:17: ordered_at: '31/02/2024' is not a valid date; hint: ...``.
    """

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        parts = [p for p in (where, self.field, self.message) if p]
        text = ": ".join(parts)
        return f"{text}; hint: {self.hint}" if self.hint else text


class ParcoursError(Exception):
    """Base of every error parcours raises on purpose."""

    code = "parcours_error"

    def __init__(self, message: str | Problem, *, hint: str | None = None) -> None:
        if isinstance(message, Problem):
            self.problem = message
        else:
            self.problem = Problem(message, hint=hint)
        super().__init__(str(self.problem))

    @property
    def hint(self) -> str | None:
        return self.problem.hint


class ConfigError(ParcoursError):
    """``parcours.yaml`` or a mapping file is invalid; lists every problem at once."""

    code = "config_error"

    def __init__(self, file: str, problems: list[str], *, hint: str | None = None) -> None:
        self.file = file
        self.problems = problems
        head = (
            f"{file}: " + problems[0] if len(problems) == 1 else f"{file}: {len(problems)} problems"
        )
        super().__init__(Problem(head, hint=hint))


class UserInputError(ValueError, ParcoursError):
    """The user's data or arguments are wrong (exit code 2)."""

    code = "invalid_input"
    __init__ = ParcoursError.__init__  # ValueError's would come first in the MRO


class MissingInputError(UserInputError):
    """A stage cannot compute for lack of input; ``parcours run`` skips it and goes on.

    The message says what is missing, the hint which command brings it.
    """

    code = "missing_input"


class EngineError(ParcoursError):
    """The engine failed while running a stage; the message names the stage and table."""

    code = "engine_error"


class NotFittedError(ValueError, AttributeError, ParcoursError):
    """A model was used before ``fit``."""

    code = "not_fitted"
    __init__ = ParcoursError.__init__


class AuthError(ParcoursError):
    """The caller is not authenticated or lacks the scope for personal data."""

    code = "unauthorized"


class ForbiddenError(AuthError):
    """The caller is authenticated but its key lacks the scope the request needs."""

    code = "forbidden"
