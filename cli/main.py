"""The `imrgold` console script.

Each sub-command lives in its own module under `cli.commands` and is discovered at start-up, so
commands stay independent and a command that needs Textual does not slow down one that does not.
A command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
from collections.abc import Sequence

from imrgold.cli import commands
from imrgold.cli.common import UserError


def build_parser() -> argparse.ArgumentParser:
    from imrgold import __version__

    parser = argparse.ArgumentParser(
        prog="imrgold",
        description="Turn IMR final determination letters into gold-standard structured data.",
    )
    parser.add_argument("--version", action="version", version=f"imrgold {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"imrgold.cli.commands.{info.name}")
        if not hasattr(module, "NAME"):
            continue
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        p.add_argument(
            "--db",
            metavar="PATH",
            default=None,
            help="store file (default: $IMRGOLD_DB, else the store in the user's data folder)",
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
        _error(args.command, _os_problem(err))
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


def _error(command: str, message: str) -> None:
    print(f"imrgold {command}: error: {printable(message)}", file=sys.stderr)


def _os_problem(err: OSError) -> str:
    what = err.strerror or type(err).__name__
    if err.filename is not None:
        return f"{err.filename}: {what}"
    return str(err) if err.strerror is None else what


if __name__ == "__main__":
    sys.exit(main())
