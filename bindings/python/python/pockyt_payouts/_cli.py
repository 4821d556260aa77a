"""The ``pockyt-payouts`` command (the package's console script): the SDK's
Rust CLI, built into the extension module, the same as the Rust binary and
the npm package's ``pockyt-payouts``. Run ``pockyt-payouts --help``."""

from __future__ import annotations

import signal
import sys

from . import _native

__all__ = ["main"]


def main() -> None:
    """Runs the command with this process's arguments and exits with its
    exit code (0 success, 1 some rows failed, 2 usage error, 3 error, 130
    interrupted)."""
    # The command handles Ctrl-C itself (a batch stops cleanly and resumes
    # on the next run); Python's handler would turn the same Ctrl-C into a
    # KeyboardInterrupt once the command has returned.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(_native._cli_main(["pockyt-payouts", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
