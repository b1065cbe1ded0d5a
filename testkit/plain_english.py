"""Plain English sentences with one mask each and the answers that make sense there: the floor the bundled mini
checkpoints are tested against (tests/test_mini_zoo.py) and the table of what they answer (assets/mini/ANSWERS.md,
scripts/plain_english_table.py). None of it is in the training corpus or in the out-of-domain evaluation set.

    >>> from testkit.plain_english import PLAIN
    >>> text, sensible = PLAIN[0]          # ("I drink a cup of [MASK] every morning.", {"coffee", ...})
"""
from __future__ import annotations

PLAIN = [("I drink a cup of [MASK] every morning.", {"coffee", "tea", "water", "milk"}),
         ("She opened the [MASK] and walked into the room.", {"door", "window", "gate"}),
         ("My brother is ten [MASK] old.", {"years"}),
         ("Paris is the capital of [MASK].", {"france"}),
         ("The sun rises in the [MASK].", {"east", "morning", "sky"}),
         ("He was hungry, so he ate a [MASK].", {"sandwich", "meal", "banana", "bread", "apple", "cake", "piece"}),
         ("We went to the [MASK] to buy some bread.", {"shop", "market", "store", "bakery", "village", "town", "city"}),
         ("It is raining, so take an [MASK].", {"umbrella"}),
         ("The children play football in the [MASK].", {"park", "garden", "field", "street", "yard", "school"}),
         ("There are seven days in a [MASK].", {"week"}),
         ("She reads a [MASK] before she goes to sleep.", {"book", "story", "letter", "newspaper", "poem"}),
         ("The doctor told him to stay in [MASK] for a week.", {"bed", "hospital", "home"})]
