"""`imrgold review`: a keyboard QA pass over gold records made by someone else, and the
adjudication of letters whose versions differ."""

from __future__ import annotations

import argparse

from imrgold.cli.common import UserError, db_path, existing_store
from imrgold.cli.identity import add_annotator_argument

NAME = "review"
HELP = "QA review of other annotators' gold records, then adjudication of differing versions"
EXAMPLES = """examples:
  imrgold review
  imrgold review --sample 0.2 --seed 7
  imrgold review --list
"""


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("a share between 0 (exclusive) and 1, e.g. 0.2")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="exit 0 when there is nothing to review or adjudicate",
    )
    add_annotator_argument(parser)
    parser.add_argument(
        "--sample",
        type=_share,
        default=None,
        metavar="SHARE",
        help="review only this share of the records, drawn at random (e.g. 0.2)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the sample: the same store, share and seed give the same letters",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--adjudicate", action="store_true", help="only the adjudication queue")
    mode.add_argument("--no-adjudicate", action="store_true", help="only reviews")
    parser.add_argument(
        "--list", action="store_true", help="print the letters the session would walk and exit"
    )


def run(args: argparse.Namespace) -> int:
    from imrgold.cli.identity import resolve
    from imrgold.store import Store

    if args.seed is not None and args.sample is None:
        raise UserError("--seed only makes sense with --sample")
    path = existing_store(db_path(args.db))
    reviewer = resolve(args.annotator)
    from imrgold.tui.review_app import ReviewApp, plan

    with Store.open(path, read_only=args.list, annotator=reviewer) as store:
        tasks = plan(
            store,
            reviewer,
            share=args.sample,
            seed=args.seed,
            review=not args.adjudicate,
            adjudicate=not args.no_adjudicate,
        )
        if args.list:
            for task in tasks:
                by = f" ({task.annotator})" if task.annotator else ""
                print(f"{task.kind}\t{store.summary(task.letter_id).name}{by}")
            return 0
        if not tasks:
            kinds = [k for k, on in (("review", not args.adjudicate),
                                     ("adjudicate", not args.no_adjudicate)) if on]  # fmt: skip
            message = f"nothing for {reviewer} to {' or '.join(kinds)}"
            if args.allow_empty:
                print(message)
                return 0
            raise UserError(
                f"{message}: no other annotator's gold record (--allow-empty exits 0)",
                exit_code=1,
            )
        app = ReviewApp(store, reviewer, tasks)
        app.run()
    for kind, name, outcome in app.outcomes:
        print(f"{kind}\t{name}\t{outcome}")
    return 0
