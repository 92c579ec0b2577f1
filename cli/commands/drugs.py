"""`imrgold drugs`: look drug names up in the lexicon, teach it, and add products to it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from imrgold.cli.common import UserError

NAME = "drugs"
HELP = "suggest drug names, normalize requests, learn aliases, add products to your supplement"
EXAMPLES = """examples:
  imrgold drugs suggest "Norco 10/325 #60"
  imrgold drugs normalize "Medi-derm 0.035% cream"
  imrgold drugs add Lidothol --generic lidocaine --generic menthol --source "DailyMed label"
  imrgold drugs learn Cyclopean Cyclophene
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="drugs_command", metavar="ACTION")
    sub.required = True

    suggest = sub.add_parser(
        "suggest",
        help="ranked candidates for a drug name as a letter writes it",
        description="Ranked candidates for a drug name; strengths, forms and counts are ignored.",
    )
    suggest.add_argument("query", help='the name as written, e.g. "Norco 10/325 #60"')
    suggest.add_argument(
        "--letter", metavar="FILE", help="the letter it comes from: its own names rank first"
    )
    suggest.add_argument("--limit", type=int, default=10, help="how many candidates (default 10)")
    suggest.add_argument("--json", action="store_true", help="one JSON object a line")

    normalize = sub.add_parser(
        "normalize",
        help="an item request's generic active ingredients (as the gold record's drugs field)",
    )
    normalize.add_argument("request", help='the item request, e.g. "Medi-derm 0.035%% cream"')
    normalize.add_argument("--letter", metavar="FILE", help="the letter the request comes from")

    learn = sub.add_parser(
        "learn", help="remember that an alias (a misspelling, an OCR slip) means a drug name"
    )
    learn.add_argument("alias", help='the spelling to recognise, e.g. "Cyclopean"')
    learn.add_argument("name", help='the name it means, e.g. "Cyclophene"')

    add = sub.add_parser(
        "add",
        help="add a product to your own supplement",
        description="Add a product (a compounded cream, a kit, a brand) to your own supplement, "
        "kept in your data folder beside the shipped one.",
    )
    add.add_argument("name", help='the product name, e.g. "Lidothol"')
    add.add_argument(
        "--generic",
        action="append",
        default=[],
        metavar="INGREDIENT",
        help="a labeled active ingredient (repeat for each; none for a medical food)",
    )
    add.add_argument(
        "--source", required=True, help='where the ingredients come from, e.g. "DailyMed label"'
    )
    add.add_argument(
        "--alias", action="append", default=[], metavar="NAME", help="another spelling (repeat)"
    )


def _letter_text(path: str | None) -> str | None:
    if path is None:
        return None
    from imrgold.core.reading import LetterError, read_letter

    if not Path(path).is_file():
        raise UserError(f"no such letter file: {path}")
    try:
        return read_letter(path, check=False).text
    except LetterError as err:
        raise UserError(str(err)) from err


def _suggest(args: argparse.Namespace) -> int:
    from imrgold.core.lexicon import default_lexicon

    if args.limit < 1:
        raise UserError("--limit must be at least 1")
    if not args.query.strip():
        raise UserError("the query is empty")
    letter = _letter_text(args.letter)
    candidates = default_lexicon().suggest(args.query, letter_text=letter, limit=args.limit)
    if args.json:
        for candidate in candidates:
            print(json.dumps(candidate.model_dump(mode="json"), ensure_ascii=False))
        return 0
    if not candidates:
        print(f"no drug name found in {args.query!r}")
        return 1
    width = max(len(c.name) for c in candidates)
    for rank, c in enumerate(candidates, 1):
        where = c.origin + (", in letter" if c.in_letter and c.origin != "letter" else "")
        generics = ", ".join(c.generics) if c.generics else "-"
        print(f"{rank:>2}. {c.score:6.2f}  {c.name:<{width}}  [{where}]  {generics}")
    return 0


def _normalize(args: argparse.Namespace) -> int:
    from imrgold.core.lexicon import generic_ingredients

    print(json.dumps(generic_ingredients(args.request, _letter_text(args.letter))))
    return 0


def _learn(args: argparse.Namespace) -> int:
    from imrgold.core.lexicon import default_lexicon

    lexicon = default_lexicon()
    try:
        lexicon.learn(args.alias, args.name)
    except ValueError as err:
        raise UserError(str(err)) from err
    known = lexicon.resolve(args.name)
    meaning = ", ".join(known[1]) if known and known[1] else "no known ingredients"
    print(f"learned: {args.alias!r} -> {args.name} ({meaning})")
    return 0


def _add(args: argparse.Namespace) -> int:
    from imrgold.core.lexicon import default_lexicon, user_supplement_path

    if not args.source.strip():
        raise UserError("--source must say where the ingredients come from")
    try:
        product = default_lexicon().add_product(
            args.name, args.generic, args.source, aliases=args.alias
        )
    except ValueError as err:
        raise UserError(str(err)) from err
    generics = ", ".join(product["generics"]) or "no drug ingredients"
    print(f"added {product['name']} ({generics}) to {user_supplement_path()}")
    return 0


def run(args: argparse.Namespace) -> int:
    actions = {"suggest": _suggest, "normalize": _normalize, "learn": _learn, "add": _add}
    return actions[args.drugs_command](args)
