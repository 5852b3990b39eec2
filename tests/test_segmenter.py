"""The segmenter: the first clause as soon as it is known, later segments at sentence ends.

Replies are fed as an LLM streams them (`split_tokens`, the fake server's tokens), so "as soon
as" is checked at the token that completes a clause, not after the whole reply.
"""

from __future__ import annotations

import pytest

from kagura.conversation.segmenter import Segmenter
from kagura.testing.openai_wire import split_tokens


def release(text: str, segmenter: Segmenter | None = None) -> list[tuple[str, str]]:
    """Stream `text` token by token: (the text received so far, segment) for each segment."""
    segmenter = segmenter or Segmenter()
    received = ""
    out: list[tuple[str, str]] = []
    for token in split_tokens(text):
        received += token
        out += [(received, piece) for piece in segmenter.feed(token)]
    return out + [(received, piece) for piece in segmenter.flush()]


def segments(text: str, step: int | None = None, **kwargs: object) -> list[str]:
    """The segments of `text`, streamed as tokens (or in chunks of `step` characters)."""
    segmenter = Segmenter(**kwargs)  # type: ignore[arg-type]
    chunks = (
        split_tokens(text)
        if step is None
        else [text[i : i + step] for i in range(0, len(text), step)]
    )
    out = [piece for chunk in chunks for piece in segmenter.feed(chunk)]
    return out + segmenter.flush()


def first_release(text: str) -> tuple[str, str]:
    return release(text)[0]


# -- the first segment: the first clause, as soon as it is known -------------------------


@pytest.mark.parametrize(
    ("reply", "first"),
    [
        ("Hello there, nice to meet you.", "Hello there,"),
        ("Hi, how are you?", "Hi,"),  # one word is enough
        ("Sure! I can help with that.", "Sure!"),
        ("Okay. Let me think.", "Okay."),
        ("Oh wow; that is a lot.", "Oh wow;"),
        ("Well: here it is.", "Well:"),
    ],
)
def test_first_clause_leaves_with_its_mark(reply: str, first: str) -> None:
    """No waiting for the next token: the clause leaves with the token carrying its mark."""
    received, piece = first_release(reply)
    assert piece == first
    assert received == first


def test_first_clause_then_sentences() -> None:
    text = "Well, hello there, my friend. I am Kagura! Pi is 3.14, you know? Bye..."
    expected = ["Well,", "hello there, my friend.", "I am Kagura!", "Pi is 3.14, you know?"]
    expected.append("Bye...")
    assert segments(text) == expected
    for step in (1, 3, 7):  # however the chunks fall
        assert segments(text, step) == expected


def test_whole_reply_in_one_chunk() -> None:
    assert segments("Oh, hello there, friend. Nice day!", step=1000) == [
        "Oh,",
        "hello there, friend.",
        "Nice day!",
    ]


def test_no_early_punctuation_waits_for_the_first_mark() -> None:
    text = "I really love talking with everyone here tonight because you are so kind. Yes."
    received, piece = first_release(text)
    assert piece == "I really love talking with everyone here tonight because you are so kind."
    assert received == piece


@pytest.mark.parametrize(
    ("reply", "first", "known_after"),
    [
        ("It costs 1,000 coins, sadly.", "It costs 1,000 coins,", "It costs 1,000 coins,"),
        # A mark after a digit waits one token: it could still be "2024,5" or "3.5".
        ("Pi is 3.14, about.", "Pi is 3.14,", "Pi is 3.14, about"),
        ("Meet at 3:30, okay?", "Meet at 3:30,", "Meet at 3:30, okay"),
        ("In 2024, we sang.", "In 2024,", "In 2024, we"),
        ("I am 3. Yes.", "I am 3.", "I am 3. Yes"),
    ],
)
def test_numbers(reply: str, first: str, known_after: str) -> None:
    assert first_release(reply) == (known_after, first)


@pytest.mark.parametrize(
    ("reply", "first"),
    [
        ("Fruit, e.g. apples, is good.", "Fruit,"),
        ("Try e.g. apples, they are good.", "Try e.g. apples,"),
        ("Ask Dr. Lee, she knows.", "Ask Dr. Lee,"),
        ("J. K. Rowling wrote it, I think.", "J. K. Rowling wrote it,"),
        ("Come at 5 p.m. sharp, please.", "Come at 5 p.m. sharp,"),
        ("So am I. Then we go.", "So am I."),  # "I." is a word, not an initial
        ("He came 1st. Then me.", "He came 1st."),  # an ordinal, not "St."
    ],
)
def test_abbreviations_and_initials(reply: str, first: str) -> None:
    assert first_release(reply)[1] == first


def test_abbreviations_in_later_sentences() -> None:
    assert segments("Hi there. I met Mr. Smith, e.g. today. He is nice.") == [
        "Hi there.",
        "I met Mr. Smith, e.g. today.",
        "He is nice.",
    ]


def test_ellipsis() -> None:
    # Whole: the ellipsis ends the clause. Streamed: the first "." is already a sentence end,
    # and the rest of the run, with nothing to say, is dropped rather than spoken alone.
    assert segments("Hmm... I think so. Yes.", step=1000) == ["Hmm...", "I think so.", "Yes."]
    assert segments("Hmm... I think so. Yes.") == ["Hmm.", "I think so.", "Yes."]
    # In later sentences the whole run is kept.
    assert segments("Hi there. I was... surprised. Yes?!") == [
        "Hi there.",
        "I was...",
        "surprised.",
        "Yes?!",
    ]


def test_runs_of_marks_stay_together() -> None:
    assert segments("Really?! You did that? Wow!!") == ["Really?", "You did that?", "Wow!!"]
    assert segments("Really?! You did that? Wow!!", step=1000) == [
        "Really?!",
        "You did that?",
        "Wow!!",
    ]


def test_quotes() -> None:
    # An open quotation waits for its closer, so it is not left to start the next segment.
    reply = '"Hello," she said. "Nice to meet you."'
    assert first_release(reply) == ('"Hello,"', '"Hello,"')
    assert segments(reply) == ['"Hello,"', "she said.", '"Nice to meet you."']
    assert segments("(Laughs) Oh, fine.") == ["(Laughs) Oh,", "fine."]
    assert segments("“Yes!” I said. Right.") == ["“Yes!”", "I said.", "Right."]


def test_emotion_tags() -> None:
    assert first_release("[joy] Hello there, nice day.") == (
        "[joy] Hello there,",
        "[joy] Hello there,",
    )
    # A tag is never cut inside and never sent alone; a tag right after a mark is fine.
    assert segments("Yes, I agree. [sur, prise] Really? [joy]") == [
        "Yes,",
        "I agree.",
        "[sur, prise] Really?",
        "[joy]",
    ]
    assert segments("Oh. Hi![joy] Nice to see you.") == ["Oh.", "Hi!", "[joy] Nice to see you."]


def test_chinese() -> None:
    assert segments("[joy] 你好，我是神乐。今天天气很好！") == [
        "[joy] 你好，",
        "我是神乐。",
        "今天天气很好！",
    ]
    assert first_release("嗯，好的。") == ("嗯，", "嗯，")
    assert segments("「你好！」他说。好的,走吧。") == ["「你好！」", "他说。", "好的,走吧。"]
    # Full-width marks end a clause whatever follows; a run of them stays together.
    assert segments("好的。OK，走吧。", step=1000) == ["好的。", "OK，走吧。"]
    assert segments("太好了！！真的吗？！好。", step=1000) == ["太好了！！", "真的吗？！", "好。"]


def test_dashes_and_list_numbers() -> None:
    assert segments("Well—I think so. Yes.") == ["Well—", "I think so.", "Yes."]
    assert segments("我想——算了。好吧。", step=1000) == ["我想——", "算了。", "好吧。"]
    # A list item's number is not a sentence of its own.
    assert segments("Here you go:\n1. Apples are red.\n2. Pears are green.") == [
        "Here you go:",
        "1. Apples are red.",
        "2. Pears are green.",
    ]


def test_later_segments_wait_for_the_next_character() -> None:
    segmenter = Segmenter()
    assert segmenter.feed("Hello there,") == ["Hello there,"]
    assert segmenter.feed(" nice to meet you.") == []  # "you.." or "you.com" still possible
    assert segmenter.feed(" I") == ["nice to meet you."]


def test_not_a_boundary_without_a_space() -> None:
    assert segments("Hi,there friend. See example.com now. Bye.", step=1000) == [
        "Hi,there friend.",
        "See example.com now.",
        "Bye.",
    ]
    assert segments("Oh. Hi,there friend. See example.com now.") == [
        "Oh.",
        "Hi,there friend.",
        "See example.com now.",
    ]


def test_runaway_text_is_bounded() -> None:
    pieces = segments("word " * 100, step=3, max_chars=50)
    assert all(len(p) <= 50 for p in pieces)
    assert " ".join(pieces).split() == ["word"] * 100


# -- later segments: short sentences merged while audio plays --------------------------


REPLY = "Hello there, friend. I am Kagura! How are you today? Let us sing a song together now."


def test_short_sentences_merge_while_audio_is_ahead() -> None:
    assert segments(REPLY, short_words=5, ahead=lambda: 3.0, merge_ahead_s=1.5) == [
        "Hello there,",
        "friend. I am Kagura! How are you today?",
        "Let us sing a song together now.",
    ]


def test_short_sentences_are_not_held_without_audio_ahead() -> None:
    expected = ["Hello there,", "friend.", "I am Kagura!", "How are you today?"]
    expected.append("Let us sing a song together now.")
    for step in (None, 1000):  # token by token, or all at once
        assert segments(REPLY, step, short_words=5, ahead=lambda: 0.5) == expected


def test_a_held_sentence_leaves_when_the_audio_ahead_runs_low() -> None:
    ahead = [3.0]
    segmenter = Segmenter(short_words=5, ahead=lambda: ahead[0])
    assert segmenter.feed("Hello there,") == ["Hello there,"]
    assert segmenter.feed(" friend. I am") == []  # held: plenty of audio ahead
    ahead[0] = 1.0
    assert segmenter.feed(" so") == ["friend."]
    assert segmenter.feed(" happy. Bye") == ["I am so happy."]
    assert segmenter.flush() == ["Bye"]


def test_the_first_segment_is_never_held() -> None:
    assert segments("Hi! I am here. Yes.", short_words=5, ahead=lambda: 9.0)[0] == "Hi!"


# -- replies worth hearing: no repeats, a sentence limit ------------------------------


def test_a_repeated_sentence_is_spoken_once() -> None:
    segmenter = Segmenter()
    text = (
        "I am Kagura, a virtual streamer. I am Kagura, a virtual streamer. I love chatting! "
        "[joy] I love CHATTING!! I am Kagura, a virtual streamer."
    )
    out = [piece for token in split_tokens(text) for piece in segmenter.feed(token)]
    out += segmenter.flush()
    assert out == ["I am Kagura,", "a virtual streamer.", "I love chatting!"]
    assert segmenter.transcript() == "I am Kagura, a virtual streamer. I love chatting!"


def test_short_repeats_may_be_deliberate() -> None:
    assert segments("Yes! Yes! I agree.") == ["Yes!", "Yes!", "I agree."]


def test_reply_ends_after_max_sentences() -> None:
    segmenter = Segmenter(max_sentences=3)
    reply = "Hi there, friend. One. Two. Three. Four."
    out = [piece for token in split_tokens(reply) for piece in segmenter.feed(token)]
    assert segmenter.done
    assert out + segmenter.flush() == ["Hi there,", "friend.", "One.", "Two."]
    assert segmenter.transcript() == "Hi there, friend. One. Two."
    assert segmenter.feed(" More.") == []


def test_transcript_keeps_the_reply_as_written() -> None:
    segmenter = Segmenter()
    for token in split_tokens("[joy] 你好，我是神乐。 Bye..."):
        segmenter.feed(token)
    segmenter.flush()
    assert segmenter.transcript() == "[joy] 你好，我是神乐。 Bye..."
