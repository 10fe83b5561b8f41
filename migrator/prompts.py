"""Questions to the user behind one replaceable interface.

Every question has a default and the command-line flag that answers it; when questions cannot
be asked (no terminal, or --yes) the default is taken where that is safe, and a required answer
that is missing is an error naming its flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from migrator.errors import Interrupted, MissingAnswerError


class Prompter:
    """Asks with questionary in a terminal."""

    def confirm(self, message: str, *, default: bool, flag: str) -> bool:
        import questionary

        return _answer(questionary.confirm(message, default=default))

    def text(self, message: str, *, default: str, flag: str) -> str:
        import questionary

        return _answer(questionary.text(message, default=default))

    def select(self, message: str, choices: Sequence[str], *, default: str, flag: str) -> str:
        import questionary

        return _answer(questionary.select(message, choices=list(choices), default=default))

    def checkbox(self, message: str, choices: Sequence[str], *, default: Sequence[str],
                 flag: str) -> list[str]:
        import questionary

        items = [questionary.Choice(c, checked=c in default) for c in choices]
        return _answer(questionary.checkbox(message, choices=items))


def _answer(question: Any) -> Any:
    # questionary returns None on Ctrl-C when asked with .ask(); unsafe_ask raises instead.
    try:
        return question.unsafe_ask()
    except KeyboardInterrupt:
        raise Interrupted("cancelled at a prompt; nothing was changed") from None


class NoPrompter(Prompter):
    """Non-interactive: defaults where given, otherwise an error naming the flag."""

    def confirm(self, message: str, *, default: bool, flag: str) -> bool:
        raise MissingAnswerError(f"cannot ask {message!r} without a terminal",
                                 hint=f"pass {flag}")

    def text(self, message: str, *, default: str, flag: str) -> str:
        if default:
            return default
        raise MissingAnswerError(f"no answer for {message!r}", hint=f"pass {flag}")

    def select(self, message: str, choices: Sequence[str], *, default: str, flag: str) -> str:
        return self.text(message, default=default, flag=flag)

    def checkbox(self, message: str, choices: Sequence[str], *, default: Sequence[str],
                 flag: str) -> list[str]:
        return list(default)


class CannedPrompter(Prompter):
    """Answers from a dict keyed by flag (tests); a missing key takes the default."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def _get(self, flag: str, default: Any) -> Any:
        self.asked.append(flag)
        return self.answers.get(flag, default)

    def confirm(self, message: str, *, default: bool, flag: str) -> bool:
        return bool(self._get(flag, default))

    def text(self, message: str, *, default: str, flag: str) -> str:
        return str(self._get(flag, default))

    def select(self, message: str, choices: Sequence[str], *, default: str, flag: str) -> str:
        return str(self._get(flag, default))

    def checkbox(self, message: str, choices: Sequence[str], *, default: Sequence[str],
                 flag: str) -> list[str]:
        return list(self._get(flag, default))
