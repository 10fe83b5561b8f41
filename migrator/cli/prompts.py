"""Questions to the user behind one replaceable interface.

Every question has a default and the command-line flag that answers it; when questions cannot
be asked (no terminal, or --yes) the default is taken where that is safe, and a required answer
that is missing is an error naming its flag.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from migrator.errors import Interrupted, MissingAnswerError, UsageError

# Checks a typed answer: None when it is acceptable, else what is wrong with it (one line).
Validator = Callable[[str], "str | None"]


class Prompter:
    """Asks with questionary in a terminal."""

    def confirm(self, message: str, *, default: bool, flag: str, required: bool = True) -> bool:
        """required: without a terminal the default is not taken; the flag must be passed."""
        import questionary

        return _answer(questionary.confirm(message, default=default))

    def text(self, message: str, *, default: str, flag: str,
             validate: Validator | None = None) -> str:
        import questionary

        check = (lambda value: validate(value) or True) if validate else None
        return _answer(questionary.text(message, default=default, validate=check))

    def select(self, message: str, choices: Sequence[str], *, default: str, flag: str,
               required: bool = False, descriptions: Mapping[str, str] | None = None,
               unattended: str | None = None) -> str:
        """required: without a terminal the default is not taken; the flag must be passed.
        unattended: the answer taken without a terminal instead of the default (the default is
        what Enter picks; unattended, what is safe when nobody is asked)."""
        import questionary

        items = [questionary.Choice(c, value=c, description=(descriptions or {}).get(c))
                 for c in choices]
        return _answer(questionary.select(message, choices=items, default=default))

    def checkbox(self, message: str, choices: Sequence[str], *, default: Sequence[str],
                 flag: str) -> list[str]:
        import questionary

        items = [questionary.Choice(c, checked=c in default) for c in choices]
        return _answer(questionary.checkbox(message, choices=items))


def prompter_for(interactive: bool) -> Prompter:
    """The one choice of prompter: questions in a terminal, otherwise defaults and flags."""
    return Prompter() if interactive else NoPrompter()


def _answer(question: Any) -> Any:
    # questionary returns None on Ctrl-C when asked with .ask(); unsafe_ask raises instead.
    try:
        return question.unsafe_ask()
    except KeyboardInterrupt:
        raise Interrupted("cancelled at a prompt; nothing was changed") from None


class NoPrompter(Prompter):
    """Non-interactive: defaults where given, otherwise an error naming the flag."""

    def confirm(self, message: str, *, default: bool, flag: str, required: bool = True) -> bool:
        if not required:
            return default
        raise MissingAnswerError(f"cannot ask {message!r} without a terminal",
                                 hint=f"pass {flag}")

    def text(self, message: str, *, default: str, flag: str,
             validate: Validator | None = None) -> str:
        if default:
            return _validated(default, validate, flag)
        raise MissingAnswerError(f"no answer for {message!r}", hint=f"pass {flag}")

    def select(self, message: str, choices: Sequence[str], *, default: str, flag: str,
               required: bool = False, descriptions: Mapping[str, str] | None = None,
               unattended: str | None = None) -> str:
        if required:
            raise MissingAnswerError(f"cannot ask {message!r} without a terminal",
                                     hint=f"pass {flag}")
        return self.text(message, default=default if unattended is None else unattended,
                         flag=flag)

    def checkbox(self, message: str, choices: Sequence[str], *, default: Sequence[str],
                 flag: str) -> list[str]:
        return list(default)


class CannedPrompter(Prompter):
    """Answers from a dict keyed by flag (tests); a missing key takes the default.

    An answer that is an exception (e.g. KeyboardInterrupt()) is raised as a Ctrl-C would be.
    """

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def _get(self, flag: str, default: Any) -> Any:
        self.asked.append(flag)
        answer = self.answers.get(flag, default)
        if isinstance(answer, KeyboardInterrupt):
            raise Interrupted("cancelled at a prompt; nothing was changed")
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def confirm(self, message: str, *, default: bool, flag: str, required: bool = True) -> bool:
        return bool(self._get(flag, default))

    def text(self, message: str, *, default: str, flag: str,
             validate: Validator | None = None) -> str:
        return _validated(str(self._get(flag, default)), validate, flag)

    def select(self, message: str, choices: Sequence[str], *, default: str, flag: str,
               required: bool = False, descriptions: Mapping[str, str] | None = None,
               unattended: str | None = None) -> str:
        return str(self._get(flag, default))

    def checkbox(self, message: str, choices: Sequence[str], *, default: Sequence[str],
                 flag: str) -> list[str]:
        return list(self._get(flag, default))


def _validated(value: str, validate: Validator | None, flag: str) -> str:
    problem = validate(value) if validate else None
    if problem:
        raise UsageError(f"{flag} {value!r}: {problem}", hint=f"pass another {flag}")
    return value
