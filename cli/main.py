"""The `imrgold` console script.

Each sub-command lives in its own module under `cli.commands` and is discovered at start-up, so
commands stay independent and a command that needs Textual does not slow down one that does not.
A command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import re
import sys
from collections.abc import Sequence
from types import ModuleType

from imrgold.cli import commands
from imrgold.cli.common import UserError

FIRST_STEPS = """first steps:
  imrgold annotate                 open the bundled letters in the annotation interface
  imrgold ingest PATH...           add your own letters (.txt, .md, .pdf) to the store
"""
# Options a command takes that may also stand before it, with their value when not given.
_BEFORE_OR_AFTER = {"db": None, "annotator": None, "read_only": False}
_DB_HELP = "store file (default: $IMRGOLD_DB, else the store in the user's data folder)"


def build_parser() -> argparse.ArgumentParser:
    from imrgold import __version__

    parser = argparse.ArgumentParser(
        prog="imrgold",
        description="Turn IMR final determination letters into gold-standard structured data.",
        epilog=FIRST_STEPS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"imrgold {__version__}")
    parser.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=_DB_HELP)
    # Accepted here too for the commands that take them (checked in `main`).
    parser.add_argument(
        "--annotator", metavar="NAME", default=argparse.SUPPRESS, help="who is working"
    )
    parser.add_argument(
        "--read-only", action="store_true", default=argparse.SUPPRESS, help="open read-only"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.HELP,
            epilog=module.EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        if p.epilog != module.EXAMPLES:  # the command wrote an epilog of its own: keep both
            p.epilog = f"{p.epilog}\n\n{module.EXAMPLES}"
        p.set_defaults(_run=module.run)
        _everywhere(p, module.EXAMPLES)
    return parser


def _command_parser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    return next(child for child, _ in _subparsers(parser) if child.prog.split()[-1] == name)


def command_modules() -> list[ModuleType]:
    """Every command module of `imrgold.cli.commands`, by name."""
    found = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"imrgold.cli.commands.{info.name}")
        if hasattr(module, "NAME"):
            found.append(module)
    return found


def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[argparse.ArgumentParser, str]]:
    """(sub-action parser, its one-line help) under ``parser``."""
    return [
        (action.choices[choice.dest], choice.help or "")
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for choice in action._choices_actions
    ]


def _everywhere(parser: argparse.ArgumentParser, examples: str) -> None:
    """``--db`` accepted at every level, before or after a subcommand (a value given at one
    level is not overwritten by another's default), and each sub-action's help showing the
    command's examples for it."""
    if not any("--db" in a.option_strings for a in parser._actions):
        parser.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=_DB_HELP)
    for action in parser._actions:
        if action.dest in _BEFORE_OR_AFTER:
            action.default = argparse.SUPPRESS
    for child, summary in _subparsers(parser):
        child.description = child.description or summary
        name = child.prog.split()[-1]
        own = [line for line in examples.splitlines()[1:] if f" {name}" in line]
        child.epilog = child.epilog or "examples:\n" + "\n".join(own or [f"  {child.prog} --help"])
        child.formatter_class = argparse.RawDescriptionHelpFormatter
        _everywhere(child, examples)


def main(argv: Sequence[str] | None = None) -> int:
    _say_warnings_printably()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # `imrgold` alone: what there is, and where to start.
        print(parser.format_usage().strip())
        print()
        for module in command_modules():
            print(f"  {module.NAME:<11} {module.HELP}")
        print()
        print(FIRST_STEPS.rstrip())
        return 0
    command = _command_parser(parser, args.command)
    for dest, default in _BEFORE_OR_AFTER.items():
        if hasattr(args, dest):
            if not any(a.dest == dest for a in command._actions):
                parser.error(f"--{dest.replace('_', '-')} does not apply to {args.command}")
        else:
            setattr(args, dest, default)
    try:
        return int(args._run(args) or 0)
    except UserError as err:
        _error(args.command, str(err))
        return err.exit_code
    except KeyboardInterrupt:
        print(f"imrgold {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as err:
        # A full disk, a read-only file system, a folder one may not write: one line, no trace.
        from imrgold.core.files import os_problem

        _error(args.command, os_problem(err))
        return 1
    except Exception as err:
        # A store error any command lets through is one line, as the commands' own are; the
        # store is imported only now, so a command that never opens one does not load TinyDB.
        from imrgold.store.errors import StoreError

        if not isinstance(err, StoreError):
            raise
        _error(args.command, str(err))
        return 2


# Control characters (a newline or an escape sequence in a file name) would break the
# one-line-a-problem output or reach the terminal raw.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class _PrintableWarnings(logging.Handler):
    """imrgold's warnings on standard error as Python prints them without a handler (the
    message alone), control characters escaped: a path from a letter or a store may hold any.
    Standard error is looked up for each line, as Python's own last-resort handler does."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(printable(self.format(record)) + "\n")
        except Exception:  # logging's contract: a handler reports its own failure
            self.handleError(record)


def _say_warnings_printably() -> None:
    logger = logging.getLogger("imrgold")
    if not any(isinstance(h, _PrintableWarnings) for h in logger.handlers):
        logger.addHandler(_PrintableWarnings(logging.WARNING))


def _error(command: str, message: str) -> None:
    print(f"imrgold {command}: error: {printable(message)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
