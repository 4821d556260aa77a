"""The ``pockyt-payouts`` command (the package's console script): the SDK's
Rust CLI, built into the extension module, the same as the Rust binary and
the npm package's ``pockyt-payouts``. Run ``pockyt-payouts --help``."""

from __future__ import annotations

import sys

from . import _native

__all__ = ["main"]


def main() -> None:
    """Runs the command with this process's arguments and exits with its
    exit code (0 success, 1 some rows failed, 2 usage error, 3 error, 130
    interrupted)."""
    # The command takes SIGINT and SIGTERM over from the interpreter (a
    # batch stops cleanly on Ctrl-C and resumes on the next run).
    sys.exit(_native._cli_main(["pockyt-payouts", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
