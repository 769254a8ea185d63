"""The embedded model's answers to simple questions: how many are right.

Two sets of thirty questions with one known answer each (capitals, simple arithmetic, colours,
opposites, days and months, everyday facts), the kind a model this small can be expected to
answer. The second set asks the same kinds of things with different facts and is held out: a
setting is kept only when it does as well there, so nothing is tuned to the first thirty. Each
question is posted as a mention in a new sandbox thread and answered through the whole path
(sandbox → bot → llama.cpp server), as `teammate dev` runs it. An answer is right when one of
the expected words appears in the reply as a whole word, ignoring case ("Paris", "4" or
"four"). The questions were written before the model was run on them and are not changed to
suit its answers.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

from bench.embedded_model import PEOPLE, embedded_bot, model_label
from bench.report import Result, Row, to_text
from bot.sandbox import Sandbox

QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What is the capital of France?", ("Paris",)),
    ("What is the capital of Japan?", ("Tokyo",)),
    ("What is the capital of Italy?", ("Rome",)),
    ("What is the capital of Germany?", ("Berlin",)),
    ("What is the capital of Spain?", ("Madrid",)),
    ("What is the capital of the United Kingdom?", ("London",)),
    ("What is 2+2?", ("4", "four")),
    ("What is 3 + 5?", ("8", "eight")),
    ("What is 10 minus 3?", ("7", "seven")),
    ("What is 2 times 3?", ("6", "six")),
    ("What is 5 + 5?", ("10", "ten")),
    ("What colour is the sky on a clear day?", ("blue",)),
    ("What colour is grass?", ("green",)),
    ("What colour is snow?", ("white",)),
    ("What colour is a ripe banana?", ("yellow",)),
    ("What is the opposite of hot?", ("cold",)),
    ("What is the opposite of up?", ("down",)),
    ("What is the opposite of big?", ("small", "little")),
    ("What is the opposite of day?", ("night",)),
    ("What day comes after Monday?", ("Tuesday",)),
    ("What day comes before Sunday?", ("Saturday",)),
    ("How many days are there in a week?", ("7", "seven")),
    ("What month comes after January?", ("February",)),
    ("How many legs does a dog have?", ("4", "four")),
    ("Which animal says moo?", ("cow",)),
    ("What do bees make?", ("honey",)),
    ("What is frozen water called?", ("ice",)),
    ("How many hours are there in a day?", ("24", "twenty-four", "twenty four")),
    ("What is a baby cat called?", ("kitten",)),
    ("Which planet do we live on?", ("Earth",)),
)
# The held-out set: the same kinds of question, different facts.
HELD_OUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What is the capital of Russia?", ("Moscow",)),
    ("What is the capital of China?", ("Beijing",)),
    ("What is the capital of Egypt?", ("Cairo",)),
    ("What is the capital of Greece?", ("Athens",)),
    ("What is the capital of Portugal?", ("Lisbon",)),
    ("What is the capital of Austria?", ("Vienna",)),
    ("What is 1+1?", ("2", "two")),
    ("What is 4 + 3?", ("7", "seven")),
    ("What is 9 minus 4?", ("5", "five")),
    ("What is 3 times 3?", ("9", "nine")),
    ("What is 6 + 2?", ("8", "eight")),
    ("What colour is a ripe tomato?", ("red",)),
    ("What colour is coal?", ("black",)),
    ("What colour is milk?", ("white",)),
    ("What colour are most leaves in summer?", ("green",)),
    ("What is the opposite of fast?", ("slow",)),
    ("What is the opposite of open?", ("closed", "shut")),
    ("What is the opposite of full?", ("empty",)),
    ("What is the opposite of wet?", ("dry",)),
    ("What day comes after Friday?", ("Saturday",)),
    ("What day comes before Wednesday?", ("Tuesday",)),
    ("What month comes after March?", ("April",)),
    ("How many months are there in a year?", ("12", "twelve")),
    ("How many legs does a bird have?", ("2", "two")),
    ("Which animal barks?", ("dog", "dogs")),
    ("Which animal says meow?", ("cat", "cats")),
    ("What is a baby dog called?", ("puppy", "pup")),
    ("How many minutes are there in an hour?", ("60", "sixty")),
    ("What do cows give us to drink?", ("milk",)),
    ("What shines in the sky during the day?", ("sun",)),
)
TARGET = 0.8
TOKENS_IN_FOOTER = re.compile(r"[\d,]+ in / [\d,]+ out tokens")


@dataclass
class Answer:
    question: str
    expected: tuple[str, ...]
    reply: str
    footer: str

    @property
    def right(self) -> bool:
        return is_right(self.reply, self.expected)


def is_right(reply: str, expected: tuple[str, ...]) -> bool:
    """One of the expected answers appears in ``reply`` as a whole word, ignoring case."""
    return any(re.search(rf"\b{re.escape(word)}\b", reply, re.IGNORECASE) for word in expected)


async def ask(box: Sandbox, index: int, question: str, expected: tuple[str, ...]) -> Answer:
    person = PEOPLE[index % len(PEOPLE)]
    posted = box.post_message(person, "general", f"<@{box.bot_user_id}> {question}")
    [reply] = await box.wait_for_replies(
        "general", posted["ts"], 1, 120.0, done=True, from_bot=True
    )
    return Answer(question, expected, reply["text"], str(reply.get("blocks") or ""))


async def measure() -> tuple[list[Answer], list[Answer], str]:
    """The answers to both sets, and the label of the model that gave them."""
    async with embedded_bot() as (box, _):
        first = [await ask(box, i, q, expected) for i, (q, expected) in enumerate(QUESTIONS)]
        held = [await ask(box, i, q, expected) for i, (q, expected) in enumerate(HELD_OUT)]
    return first, held, model_label()


def result_from(first: list[Answer], held: list[Answer], label: str) -> Result:
    answers = first + held
    counted = sum(bool(TOKENS_IN_FOOTER.search(answer.footer)) for answer in answers)
    rows = [
        _share_row("simple questions answered right", first),
        _share_row("held-out questions answered right", held),
        Row(
            "answers whose footer shows token counts",
            f"{counted} of {len(answers)}",
            "all",
            counted == len(answers),
        ),
    ]
    method = (
        f"{label} through llama.cpp's server as `teammate dev` runs it, with the catalog's "
        f"settings for it; {len(first)} questions with known answers and {len(held)} held-out "
        "ones of the same kinds, each posted as a mention in a new sandbox thread; right when "
        'an expected word ("Paris", "4" or "four") appears in the reply, ignoring case.'
    )
    notes = [f"wrong: “{a.question}” → “{_excerpt(a.reply)}”" for a in answers if not a.right]
    return Result("The embedded model's answers", method, rows, notes)


def _share_row(what: str, answers: list[Answer]) -> Row:
    right = sum(answer.right for answer in answers)
    share = right / len(answers)
    return Row(what, f"{right} of {len(answers)} ({share:.0%})", f"≥ {TARGET:.0%}", share >= TARGET)


def _excerpt(text: str, limit: int = 100) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


async def run() -> Result:
    started = time.monotonic()
    result = result_from(*await measure())
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    print(to_text(asyncio.run(run())))


if __name__ == "__main__":
    main()
