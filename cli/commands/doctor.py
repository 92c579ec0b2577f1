"""`imrgold doctor`: check a store file by file; `--repair` fixes what it can, losing no gold."""

from __future__ import annotations

import argparse

from imrgold.cli.common import UserError, db_path

NAME = "doctor"
HELP = "check the store for damage; --repair rebuilds what it can without losing gold records"
EXAMPLES = """examples:
  imrgold doctor
  imrgold doctor --repair --db store.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repair", action="store_true", help="repair (damaged files are kept beside, renamed)"
    )


def run(args: argparse.Namespace) -> int:
    from imrgold.store.doctor import check, repair
    from imrgold.store.layout import Layout

    path = db_path(args.db)
    if not path.exists() and not Layout(path).dir.exists():
        raise UserError(f"no store at {path}")
    report = repair(path) if args.repair else check(path)
    for line in report.notes:
        print(f"note: {line}")
    for line in report.repaired:
        print(f"repaired: {line}")
    for line in report.lost:
        print(f"lost: {line}")
    for problem in report.problems:
        print(f"problem: {problem}{'' if problem.repairable else ' (cannot be repaired)'}")
    state = "healthy" if report.healthy else f"{len(report.problems)} problem(s)"
    letters = f"{report.letters} letter{'s' if report.letters != 1 else ''}"
    print(f"{path}: {letters}, {report.gold} with gold; {state}")
    if not report.healthy and not args.repair:
        print("run `imrgold doctor --repair` to repair")
    return 0 if report.healthy else 1
