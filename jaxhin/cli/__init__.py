"""The `jaxhin` command line, a client of the library (`jaxhin.cli.main`).

`main.py` parses arguments and writes results; `hin.py`, `lda.py`, `sbp.py` hold each system's
commands. No library package imports this one.
"""

from jaxhin.cli.main import (
    INFO,
    Command,
    UsageError,
    build_parser,
    console,
    main,
    output_dir,
    output_file,
    system_commands,
)

__all__ = ["INFO", "Command", "UsageError", "build_parser", "console", "main", "output_dir",
           "output_file", "system_commands"]
