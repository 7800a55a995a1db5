"""Common short forms of first names, each mapped to its full form (folded spelling).

A record may hold ``bob`` where another holds ``robert``: the matching model compares the
full forms as a level of its own, and the twins rule never takes a nickname for a sibling.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

NICKNAMES = {
    # English
    "abby": "abigail",
    "alex": "alexander",
    "andy": "andrew",
    "ben": "benjamin",
    "beth": "elizabeth",
    "bill": "william",
    "billy": "william",
    "bob": "robert",
    "bobby": "robert",
    "cathy": "catherine",
    "chris": "christopher",
    "dan": "daniel",
    "danny": "daniel",
    "dave": "david",
    "debbie": "deborah",
    "dick": "richard",
    "ed": "edward",
    "eddie": "edward",
    "jack": "john",
    "jake": "jacob",
    "jen": "jennifer",
    "jenny": "jennifer",
    "jim": "james",
    "jimmy": "james",
    "joe": "joseph",
    "johnny": "john",
    "kate": "katherine",
    "katie": "katherine",
    "kathy": "katherine",
    "liz": "elizabeth",
    "matt": "matthew",
    "meg": "margaret",
    "mike": "michael",
    "nate": "nathan",
    "nick": "nicholas",
    "pat": "patricia",
    "peggy": "margaret",
    "rob": "robert",
    "sam": "samuel",
    "steve": "stephen",
    "sue": "susan",
    "ted": "edward",
    "tom": "thomas",
    "tommy": "thomas",
    "tony": "anthony",
    "will": "william",
    # French
    "cath": "catherine",
    "dom": "dominique",
    "fred": "frederic",
    "guigui": "guillaume",
    "jb": "jeanbaptiste",
    "jc": "jeanclaude",
    "jp": "jeanpierre",
    "manu": "emmanuel",
    "max": "maxime",
    "nico": "nicolas",
    "seb": "sebastien",
    "steph": "stephane",
    "val": "valerie",
    "vero": "veronique",
}


def full_forms(first_names: pa.Array) -> pa.Array:
    """The full form of each folded first name (itself when it is not a known nickname)."""
    short = pa.array(list(NICKNAMES), pa.string())
    full = pa.array(list(NICKNAMES.values()), pa.string())
    found = pc.take(full, pc.index_in(first_names, value_set=short))
    return pc.coalesce(found, first_names)


def nickname_table() -> pa.Table:
    """``short`` -> ``full`` pairs, for joins in the engine."""
    return pa.table({"short": list(NICKNAMES), "full": list(NICKNAMES.values())})
