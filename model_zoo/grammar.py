"""A small grammar of English written here, whose sentences carry every word's labels by construction: part of speech
(UPOS), depth in the dependency tree, role and the grammatical number of the subject a verb agrees with.

    S  -> NP[subject] VP .
    NP -> Det Adj* Noun (PP | RC)?          PP -> Prep NP[other]
    RC -> that VP                (subject relative: "the dog that chases the cats"; its verb agrees with the noun)
        | that NP[subject] Verb  (object relative: "the dog that the cats chase"; its verb agrees with its own subject)
    VP -> Verb NP[object]? Adv? | is/are Adj

A tree is a nested list, written in brackets: [S [NP the key [PP to [NP the cabinets]]] [VP is old]]. The dependency
tree follows Universal Dependencies: the verb heads its clause (the adjective where the verb is the copula), a noun
heads its determiner, adjectives, the preposition before it and its relative clause's verb; the root's depth is 0.
Labels: upos on every word; depth on every word; role (subject / object / other) on nouns and the relative pronoun;
number (Sing / Plur) on each finite verb: the number of the subject it agrees with, which an attractor ("cabinets")
between them does not change.

    >>> [w for w in labelled(parse("[S [NP the dogs] [VP sleep]]")).labels["number"]]
    [None, None, 'Plur', None]
"""
from __future__ import annotations

import random
import re
from functools import lru_cache

from model_zoo import labelled_data as ld

N_SENTENCES = 400
SEED = 0
NOUNS = [("key", "keys"), ("cabinet", "cabinets"), ("dog", "dogs"), ("cat", "cats"), ("author", "authors"),
         ("teacher", "teachers"), ("child", "children"), ("woman", "women"), ("man", "men"), ("farmer", "farmers"),
         ("pilot", "pilots"), ("doctor", "doctors"), ("student", "students"), ("painting", "paintings"),
         ("book", "books"), ("table", "tables"), ("garden", "gardens"), ("boat", "boats"), ("letter", "letters"),
         ("bird", "birds"), ("horse", "horses"), ("song", "songs"), ("lamp", "lamps"), ("box", "boxes"),
         ("city", "cities"), ("baby", "babies"), ("neighbour", "neighbours"), ("singer", "singers"),
         ("guard", "guards"), ("window", "windows")]
DETERMINERS = {"Sing": ["the", "a", "this", "every"], "Plur": ["the", "some", "these", "those"]}
ADJECTIVES = ["old", "small", "young", "red", "quiet", "happy", "tall", "new", "famous", "heavy", "bright", "strange"]
PREPOSITIONS = ["to", "near", "behind", "beside", "with", "under", "above", "from"]
TRANSITIVE = [("sees", "see"), ("likes", "like"), ("follows", "follow"), ("watches", "watch"), ("admires", "admire"),
              ("finds", "find"), ("helps", "help"), ("visits", "visit"), ("knows", "know"), ("chases", "chase"),
              ("loves", "love"), ("remembers", "remember")]
INTRANSITIVE = [("sleeps", "sleep"), ("laughs", "laugh"), ("waits", "wait"), ("smiles", "smile"), ("falls", "fall"),
                ("arrives", "arrive"), ("sings", "sing"), ("works", "work"), ("swims", "swim"),
                ("disappears", "disappear")]
COPULA = {"Sing": "is", "Plur": "are"}
ADVERBS = ["often", "quietly", "again", "together", "quickly", "slowly", "here", "now"]
NUMBER_OF = {w: n for pair in NOUNS for w, n in zip(pair, ("Sing", "Plur"))}
NUMBER_OF.update({w: n for pair in TRANSITIVE + INTRANSITIVE for w, n in zip(pair, ("Sing", "Plur"))})
NUMBER_OF.update({v: k for k, v in COPULA.items()})
COLUMNS = ("upos", "depth", "role", "number")


# ---------------------------------------------------------------------------------------------------- trees
def parse(text: str) -> list:
    """A bracketed tree ("[S [NP the dog] [VP sleeps]]") as nested lists; ValueError when the brackets do not close."""
    stack: list[list] = [[]]
    for token in re.findall(r"\[\w+|\]|[^\s\[\]]+", text):
        if token.startswith("["):
            stack.append([token[1:]])
        elif token == "]":
            if len(stack) < 2:
                raise ValueError(f"unbalanced brackets in {text!r}")
            node = stack.pop()
            stack[-1].append(node)
        else:
            stack[-1].append(token)
    if len(stack) != 1 or len(stack[0]) != 1:
        raise ValueError(f"unbalanced brackets in {text!r}")
    return stack[0][0]


def brackets(tree) -> str:
    return tree if isinstance(tree, str) else "[" + " ".join([tree[0]] + [brackets(c) for c in tree[1:]]) + "]"


class _Builder:
    """Words in surface order with their UD head (index, -1 for the root), part of speech, role and number."""

    def __init__(self) -> None:
        self.words, self.upos, self.heads, self.role, self.number = [], [], [], [], []

    def add(self, word: str, upos: str, role: str | None = None, number: str | None = None) -> int:
        for column, value in ((self.words, word), (self.upos, upos), (self.heads, -1), (self.role, role),
                              (self.number, number)):
            column.append(value)
        return len(self.words) - 1

    def noun_phrase(self, node: list, role: str) -> tuple[int, str]:
        """(index of the head noun, its number)."""
        words = [c for c in node[1:] if isinstance(c, str)]
        modifiers = [c for c in node[1:] if isinstance(c, list)]
        dependents = [self.add(words[0], "DET")] + [self.add(w, "ADJ") for w in words[1:-1]]
        noun = self.add(words[-1], "NOUN", role=role)
        number = NUMBER_OF[words[-1]]
        for modifier in modifiers:
            if modifier[0] == "PP":
                dependents.append(self.add(modifier[1], "ADP"))
                inner, _ = self.noun_phrase(modifier[2], "other")
                self.heads[dependents.pop()] = inner
                dependents.append(inner)
            elif isinstance(modifier[2], list) and modifier[2][0] == "NP":   # object relative: that NP Verb
                that = self.add(modifier[1], "PRON", role="object")
                subject, own = self.noun_phrase(modifier[2], "subject")
                verb = self.add(modifier[3], "VERB", number=own)
                self.heads[that] = self.heads[subject] = verb
                dependents.append(verb)
            else:                                                            # subject relative: that VP
                that = self.add(modifier[1], "PRON", role="subject")
                dependents.append(self.verb_phrase(modifier[2], number, that))
        for d in dependents:
            self.heads[d] = noun
        return noun, number

    def verb_phrase(self, node: list, number: str, subject: int) -> int:
        """The clause's head: the verb, or the adjective after the copula."""
        verb, rest = node[1], node[2:]
        if verb in COPULA.values():
            aux = self.add(verb, "AUX", number=number)
            head = self.add(rest[0], "ADJ")
            self.heads[aux] = self.heads[subject] = head
            return head
        head = self.add(verb, "VERB", number=number)
        self.heads[subject] = head
        for child in rest:
            self.heads[self.noun_phrase(child, "object")[0] if isinstance(child, list) else self.add(child, "ADV")] \
                = head
        return head

    def depths(self) -> list[str]:
        found = []
        for i in range(len(self.words)):
            depth = 0
            while self.heads[i] != -1:
                i, depth = self.heads[i], depth + 1
            found.append(str(depth))
        return found


def labelled(tree: list) -> ld.Sentence:
    """The sentence of a tree [S NP VP] with its four label columns (its first letter capitalised, a full stop)."""
    built = _Builder()
    subject, number = built.noun_phrase(tree[1], "subject")
    root = built.verb_phrase(tree[2], number, subject)
    built.heads[built.add(".", "PUNCT")] = root
    words = list(built.words)
    words[0] = words[0][:1].upper() + words[0][1:]
    space = [True] * (len(words) - 2) + [False, False]
    return ld.sentence(words, space, {"upos": built.upos, "depth": built.depths(), "role": built.role,
                                   "number": built.number})


# ---------------------------------------------------------------------------------------------------- generation
def _noun_phrase(rng: random.Random, budget: int, attract: bool = False) -> list:
    """A random NP; `budget` nested phrases at most; a subject (`attract`) gets a modifier more often."""
    number = rng.choice(["Sing", "Plur"])
    noun = rng.choice(NOUNS)[number == "Plur"]
    node = ["NP", rng.choice(DETERMINERS[number])] + ([rng.choice(ADJECTIVES)] if rng.random() < 0.3 else []) + [noun]
    pick = rng.random() if budget > 0 else 1.0
    if pick < (0.45 if attract else 0.2):
        node.append(["PP", rng.choice(PREPOSITIONS), _noun_phrase(rng, budget - 1)])
    elif pick < (0.75 if attract else 0.3):
        if rng.random() < 0.5:
            node.append(["RC", "that", _verb_phrase(rng, number, budget - 1)])
        else:
            inner = _noun_phrase(rng, 0)
            node.append(["RC", "that", inner, rng.choice(TRANSITIVE)[NUMBER_OF[_noun(inner)] == "Plur"]])
    return node


def _verb_phrase(rng: random.Random, number: str, budget: int) -> list:
    plural = number == "Plur"
    kind = rng.random()
    if kind < 0.2:
        return ["VP", COPULA[number], rng.choice(ADJECTIVES)]
    if kind < 0.6:
        return ["VP", rng.choice(TRANSITIVE)[plural], _noun_phrase(rng, budget)] + \
            ([rng.choice(ADVERBS)] if rng.random() < 0.2 else [])
    return ["VP", rng.choice(INTRANSITIVE)[plural]] + ([rng.choice(ADVERBS)] if rng.random() < 0.5 else [])


def _noun(node: list) -> str:
    return [c for c in node if isinstance(c, str)][-1]


def tree(rng: random.Random) -> list:
    subject = _noun_phrase(rng, 2, attract=True)
    return ["S", subject, _verb_phrase(rng, NUMBER_OF[_noun(subject)], 1)]


def trees(n: int = N_SENTENCES, seed: int = SEED) -> list[list]:
    """`n` different trees, the same for a seed."""
    rng, found, seen = random.Random(seed), [], set()
    while len(found) < n:
        candidate = tree(rng)
        key = brackets(candidate)
        if key not in seen:
            seen.add(key)
            found.append(candidate)
    return found


@lru_cache(maxsize=2)
def dataset_of(n: int = N_SENTENCES, seed: int = SEED) -> ld.Dataset:
    return ld.dataset("grammar", [labelled(t) for t in trees(n, seed)])


def dataset() -> ld.Dataset:
    """The bundled grammar set: N_SENTENCES sentences, seed SEED."""
    return dataset_of()
