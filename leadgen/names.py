"""Score how alike two normalised company names are.

Names are compared word by word (see :func:`similarity`). A large merge compares
the same few thousand names with each other hundreds of thousands of times, so
each name is split into its words once, each pair of names is scored once per
set of place words that matters to it, and in the common case, names whose
words match exactly or not at all, the score follows from the sets of words
without the word-by-word search. :func:`could_reach` lets a caller skip pairs
whose names cannot matter before it looks at anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from leadgen import normalize as nz

#: Score of a name that is the other plus generic words only.
NEAR = 0.9
#: Score of a name that is an acronym of the other.
ACRONYM_SCORE = 0.6

_GENERIC_WEIGHT = 0.25
_TYPO_SIMILARITY = 0.92
# Jaro-Winkler adds at most 0.4 * (1 - jaro) for a shared prefix, so a typo needs
# jaro >= (T - 0.4) / 0.6, and jaro averages m/len1, m/len2 and a third term of
# at most 1, where m counts matching characters: m/len1 + m/len2 must reach
# this (less a hair for rounding), and m is at most the letters the words share.
_TYPO_SHARE = 3 * (_TYPO_SIMILARITY - 0.4) / 0.6 - 1 - 1e-9
_TYPO_MIN_LENGTH = 4


@dataclass(frozen=True)
class _Name:
    """The words of one normalised name, in the forms the comparison asks for.

    Attributes:
        tokens: The words in order.
        words: The same words as a set.
        joined: Each pair of neighbouring words written as one word, which the
            other name may use (``peak view`` and ``peakview``).
        long_words: The words long enough to be matched despite a typo, each
            with the set of its letters as bits (see :func:`_letter_bits`).
        repeats: True when a word occurs twice.
        acronym: The name's one distinctive word when it is short enough to be
            the initials of another name, else None.
        initials: The first letters of all words and of the distinctive words,
            empty for a one-word name (too short to have an acronym).
    """

    tokens: tuple[str, ...]
    words: frozenset[str]
    joined: frozenset[str]
    long_words: tuple[tuple[str, int], ...]
    repeats: bool
    acronym: str | None
    initials: tuple[str, ...]


def similarity(
    left: str, right: str, left_city: str | None = None, right_city: str | None = None
) -> float:
    """Score how alike two normalised names are, from 0 to 1.

    Words match when equal or when they differ by a typo. Generic industry words
    and the words of either city weigh a quarter of a distinctive word, so ``acme
    property management`` and ``acme property`` score high while ``acme
    plumbing`` and ``acme dental`` do not. A name that is the other plus only
    generic words scores :data:`NEAR`; an acronym of the other name scores
    :data:`ACRONYM_SCORE`.

    Args:
        left: A name from :func:`leadgen.normalize.normalize_name`, not empty.
        right: Another such name.
        left_city: The normalised city of the left record, if known.
        right_city: The normalised city of the right record, if known.
    """
    if left == right:
        return 1.0
    return _similarity_in(left, right, left_city, right_city)


def forget() -> None:
    """Empty the caches of parsed names and of comparisons.

    A large merge leaves hundreds of thousands of comparisons cached that say
    little about the next set of records, and that the garbage collector would
    walk on each of its full passes for the rest of the process.
    """
    for cached in (
        _similarity_in, _similarity, could_reach, _parse, _city_words,
        _letter_bits,
    ):  # fmt: skip
        cached.cache_clear()


@lru_cache(maxsize=262_144)
def could_reach(left: str, right: str, floor: float) -> bool:
    """Tell cheaply whether :func:`similarity` could reach ``floor`` in any cities.

    False means the score is below ``floor`` whatever cities the records are
    in, which lets a caller skip pairs of records whose names have only
    generic words in common, or none, without placing or scoring them.

    Args:
        left: A name from :func:`leadgen.normalize.normalize_name`, not empty.
        right: Another such name, in the order :func:`similarity` would get it.
        floor: The score that matters to the caller.
    """
    if left == right:
        return True
    a, b = _parse(left), _parse(right)
    shared = a.words & b.words
    if not shared <= nz.GENERIC_NAME_WORDS or _needs_typo_search(a, b):
        return True

    # Only generic words in common: they weigh a quarter in any city, no name
    # is contained in the other with a word of its own, and the score is
    # highest when every other word is a city word and weighs a quarter too.
    best = 2 * len(shared) / (len(a.words) + len(b.words))
    if _is_acronym_of(a, b) or _is_acronym_of(b, a):
        best = max(best, ACRONYM_SCORE)
    return best >= floor


@lru_cache(maxsize=262_144)
def _similarity_in(
    left: str, right: str, left_city: str | None, right_city: str | None
) -> float:
    # Directories and agents repeat the same few spellings of a name in the
    # same few places, so most comparisons of a large merge were made before.
    places = _city_words(left_city) | _city_words(right_city)
    if places:
        # Only city words that occur in a name change a weight, so the score
        # is cached on those rather than on the cities: "Acme" in Denver and
        # in Boulder is one comparison.
        places &= _parse(left).words | _parse(right).words
    return _similarity(left, right, places)


@lru_cache(maxsize=262_144)
def _similarity(left: str, right: str, places: frozenset[str]) -> float:
    a, b = _parse(left), _parse(right)
    if _needs_typo_search(a, b):
        return _fuzzy_similarity(list(a.tokens), list(b.tokens), places)
    return _exact_similarity(a, b, places)


@lru_cache(maxsize=65_536)
def _parse(name: str) -> _Name:
    tokens = tuple(name.split())
    long_words = dict.fromkeys(t for t in tokens if len(t) >= _TYPO_MIN_LENGTH)
    distinctive = [t for t in tokens if t not in nz.GENERIC_NAME_WORDS]
    acronym = distinctive[0] if len(distinctive) == 1 else None
    initials = ("".join(t[0] for t in tokens), "".join(t[0] for t in distinctive))
    return _Name(
        tokens=tokens,
        words=frozenset(tokens),
        joined=frozenset(x + y for x, y in zip(tokens, tokens[1:], strict=False)),
        long_words=tuple((word, _letter_bits(word)) for word in long_words),
        repeats=len(set(tokens)) < len(tokens),
        acronym=acronym if acronym and 2 <= len(acronym) <= 6 else None,
        initials=initials if len(tokens) >= 2 else (),
    )


@lru_cache(maxsize=16_384)
def _city_words(city: str | None) -> frozenset[str]:
    return frozenset(city.split()) if city else frozenset()


def _weigher(places: frozenset[str]) -> Callable[[str], float]:
    def weight(token: str) -> float:
        generic = token in nz.GENERIC_NAME_WORDS or token in places
        return _GENERIC_WEIGHT if generic else 1.0

    return weight


def _needs_typo_search(a: _Name, b: _Name) -> bool:
    """Tell whether words could pair up other than by being equal.

    When no word of ``a`` is a typo of a word of ``b``, no two words join into
    one, and no word repeats, every word matches its equal or nothing, and
    :func:`_exact_similarity` gives the same score as the full search.
    """
    if a.repeats or b.repeats:
        return True
    if not (a.joined.isdisjoint(b.words) and b.joined.isdisjoint(a.words)):
        return True
    for word, bits in a.long_words:
        if word in b.words:
            continue
        for candidate, candidate_bits in b.long_words:
            if _enough_letters(word, bits, candidate, candidate_bits) and (
                nz.jaro_winkler(word, candidate) >= _TYPO_SIMILARITY
            ):
                return True
    return False


def _enough_letters(word: str, bits: int, candidate: str, candidate_bits: int) -> bool:
    """Tell whether two words share enough letters to be one word with a typo.

    ``bits`` and ``candidate_bits`` are the words' sets of letters (see
    :func:`_letter_bits`). Each letter of one word that the other lacks leaves
    a character unmatched, and most pairs of words fail on that alone, which
    is far cheaper to learn than their Jaro-Winkler similarity.
    """
    shared = min(
        len(word) - (bits & ~candidate_bits).bit_count(),
        len(candidate) - (candidate_bits & ~bits).bit_count(),
    )
    lengths = len(word) + len(candidate)
    return shared * lengths >= _TYPO_SHARE * len(word) * len(candidate)


def _exact_similarity(a: _Name, b: _Name, places: frozenset[str]) -> float:
    # Equal words pair up and nothing else does: the score is the weight of
    # the shared words over the weight of all words, on both sides, and no
    # word repeats, so the sets of words say it all.
    light = nz.GENERIC_NAME_WORDS | places if places else nz.GENERIC_NAME_WORDS
    score = 0.0
    shared = a.words & b.words
    if shared:
        total = _weight(a.words, light) + _weight(b.words, light)
        score = 2 * _weight(shared, light) / total

        # Every word of one name found in the other, which adds light words
        # only, and the name has a word of its own.
        only_a, only_b = a.words - shared, b.words - shared
        if (not only_a and only_b <= light and not a.words <= light) or (
            not only_b and only_a <= light and not b.words <= light
        ):
            score = max(score, NEAR)
    if _is_acronym_of(a, b) or _is_acronym_of(b, a):
        score = max(score, ACRONYM_SCORE)
    return score


def _weight(words: frozenset[str], light: frozenset[str]) -> float:
    # Sums of ones and quarters are exact in floating point, so this equals
    # adding the words' weights one by one in any order.
    light_count = len(words & light)
    return len(words) - light_count + _GENERIC_WEIGHT * light_count


def _is_acronym_of(short: _Name, long: _Name) -> bool:
    return short.acronym is not None and short.acronym in long.initials


def _fuzzy_similarity(a: list[str], b: list[str], places: frozenset[str]) -> float:
    # The general comparison: words joined where the other name writes them as
    # one, then each word of ``a``, heaviest first, takes its equal or its
    # closest typo among the words of ``b`` not yet taken.
    weight = _weigher(places)
    a, b = _join_compounds(a, b), _join_compounds(b, a)
    unmatched_b = list(b)
    unmatched_a: list[str] = []
    matched = 0.0
    for token in sorted(a, key=weight, reverse=True):
        partner = _partner(token, unmatched_b)
        if partner is None:
            unmatched_a.append(token)
            continue
        unmatched_b.remove(partner)
        matched += (weight(token) + weight(partner)) / 2

    total = sum(map(weight, a)) + sum(map(weight, b))
    score = 2 * matched / total

    def contained(
        inner: list[str], inner_left: list[str], outer_left: list[str]
    ) -> bool:
        # Every word of one name found in the other, which adds generic words only.
        distinctive = any(weight(token) == 1.0 for token in inner)
        extras_generic = all(weight(token) < 1.0 for token in outer_left)
        return not inner_left and distinctive and extras_generic

    if contained(a, unmatched_a, unmatched_b) or contained(b, unmatched_b, unmatched_a):
        score = max(score, NEAR)
    if _is_acronym(a, b) or _is_acronym(b, a):
        score = max(score, ACRONYM_SCORE)
    return score


def _join_compounds(tokens: list[str], other: list[str]) -> list[str]:
    """Join two neighbouring words that the other name writes as one word.

    ``peak view rentals`` against ``peakview rentals`` becomes ``peakview rental``.
    """
    wanted = set(other) - set(tokens)
    if not wanted:
        return tokens
    joined: list[str] = []
    position = 0
    while position < len(tokens):
        pair = "".join(tokens[position : position + 2])
        if position + 1 < len(tokens) and pair in wanted:
            joined.append(pair)
            position += 2
        else:
            joined.append(tokens[position])
            position += 1
    return joined


def _partner(token: str, candidates: list[str]) -> str | None:
    if token in candidates:
        return token
    if len(token) < _TYPO_MIN_LENGTH:
        return None
    best, best_score = None, _TYPO_SIMILARITY
    bits = _letter_bits(token)
    for candidate in candidates:
        if len(candidate) >= _TYPO_MIN_LENGTH and _enough_letters(
            token, bits, candidate, _letter_bits(candidate)
        ):
            score = nz.jaro_winkler(token, candidate)
            if score >= best_score:
                best, best_score = candidate, score
    return best


@lru_cache(maxsize=65_536)
def _letter_bits(word: str) -> int:
    """The set of letters in ``word``, one bit per letter."""
    bits = 0
    for char in word:
        bits |= 1 << ord(char)
    return bits


def _is_acronym(short: Sequence[str], long: Sequence[str]) -> bool:
    distinctive = [t for t in short if t not in nz.GENERIC_NAME_WORDS]
    if len(distinctive) != 1 or not 2 <= len(distinctive[0]) <= 6 or len(long) < 2:
        return False
    initials = "".join(token[0] for token in long)
    core_initials = "".join(t[0] for t in long if t not in nz.GENERIC_NAME_WORDS)
    return distinctive[0] in (initials, core_initials)
