"""The `jaxhin` command line: `jaxhin <system> <command> [options] --out FILE.json`.

The CLI is a client of the library: each command parses flags into a config, calls public
library functions and returns `(config, metrics)`; `main` times it and writes the results JSON
(`jaxhin.train.write_results`). A system's commands live in `jaxhin/cli/<system>.py` as a
`COMMANDS` tuple of `Command`s, imported only when that group is named on the command line,
so `jaxhin --help` imports no system package (nor JAX).

Exit status: 0 on success; 2 on bad input (unknown option, bad value, a missing or malformed
dataset, an output that cannot be written, a checkpoint of another run: a `UsageError` or a
`jaxhin.data.DataError`) with a one-line message on stderr; 130 on Ctrl-C, at any moment, with
one line and no traceback. Every output (`--out`, and each command's files and folders) is
checked before the work starts. A traceback means a bug.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from jaxhin._capabilities import CAPABILITIES, capability, format_table
from jaxhin._version import __version__

SYSTEMS = tuple(c.system for c in CAPABILITIES)
_DEVICE_FLAG = "--xla_force_host_platform_device_count"


class UsageError(ValueError):
    """Bad user input found while running a command; reported in one line, exit status 2."""


@dataclasses.dataclass(frozen=True)
class Command:
    """One CLI command.

    Attributes:
      name: the command word (`train`).
      help: one-line summary shown by `--help`.
      add_arguments: adds the command's own options to its parser.
      run: `run(args) -> (config, metrics)`; `args.quiet` says whether to show progress bars.
      devices: `devices(args) -> int`, how many devices the command needs (a mesh's size);
        on CPU the CLI provides that many host devices before JAX starts (`host_devices`).
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], tuple[Any, Mapping[str, Any]]]
    devices: Callable[[argparse.Namespace], int] | None = None


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (`prog: error: msg (see --help)`), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def output_file(value: str) -> Path:
    """argparse type of an output file flag: checked writable now, not after the work."""
    from jaxhin.data import OutputError, check_output_file

    try:
        return check_output_file(value, "")
    except OutputError as err:
        raise argparse.ArgumentTypeError(str(err).strip()) from None


def mesh_arg(text: str) -> dict[str, int]:
    """argparse type of --mesh: "data=2,model=4" -> {"data": 2, "model": 4}."""
    from jaxhin.sbp import parse_mesh

    try:
        return parse_mesh(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def mesh_size(args: argparse.Namespace) -> int:
    """Devices that --mesh needs (a `Command.devices`)."""
    return math.prod(args.mesh.values())


def mesh_for(axes: dict[str, int]):
    """The mesh of --mesh, through `jaxhin.sbp.make_mesh`, or a one-line error."""
    import jax

    from jaxhin.sbp import make_mesh

    needed = math.prod(axes.values())
    if needed > jax.device_count():
        raise UsageError(f"--mesh {axes} needs {needed} devices, this process has "
                         f"{jax.device_count()} (on CPU jaxhin adds host devices itself unless "
                         f"XLA_FLAGS already sets --xla_force_host_platform_device_count)")
    return make_mesh(axes, jax.devices()[:needed])


def output_dir(value: str) -> Path:
    """argparse type of an output folder flag: created and checked writable now."""
    from jaxhin.data import OutputError, write_results_dir

    try:
        return write_results_dir(value, "")
    except OutputError as err:
        raise argparse.ArgumentTypeError(str(err).strip()) from None


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", type=output_file, metavar="FILE.json",
                        help="write config, metrics, versions and devices to this JSON file")
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    return common


def system_commands(system: str) -> tuple[Command, ...]:
    """The commands of `system` (`jaxhin/cli/<system>.py`), () for a planned system."""
    try:
        module = importlib.import_module(f"jaxhin.cli.{system}")
    except ModuleNotFoundError as err:
        if err.name != f"jaxhin.cli.{system}":
            raise
        return ()
    return tuple(module.COMMANDS)


def host_devices(needed: int) -> str | None:
    """Before JAX starts, make sure a CPU process has `needed` devices: add XLA's host device
    count flag unless the user set one. Returns the one-line note to print, or None.

    The flag only affects the CPU platform, so it is harmless where JAX picks a GPU or TPU
    (whose device count then decides). Called only by the CLI, which owns its process.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if needed <= 1 or _DEVICE_FLAG in flags or ("jax" in sys.modules and _backend_started()):
        return None
    os.environ["XLA_FLAGS"] = f"{flags} {_DEVICE_FLAG}={needed}".strip()
    return f"jaxhin: {needed} devices needed; on CPU using {needed} host devices ({_DEVICE_FLAG})"


def _backend_started() -> bool:
    from jax._src import xla_bridge

    return xla_bridge.backends_are_initialized()


def _run_info(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    import jax

    devices = jax.devices()
    print(f"jaxhin {__version__} (jax {jax.__version__})")
    print(f"devices: {len(devices)} x {devices[0].platform}: {', '.join(map(str, devices))}")
    print()
    print(format_table())
    metrics = {
        "version": __version__,
        "devices": [str(d) for d in devices],
        "capabilities": [dataclasses.asdict(c) for c in CAPABILITIES],
    }
    return {}, metrics


INFO = Command("info", "print version, devices and the capability table",
               lambda parser: None, _run_info)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Build the parser; only the system group named in `argv` imports its commands."""
    argv = list(sys.argv[1:] if argv is None else argv)
    common = _common_options()
    parser = _Parser(prog="jaxhin", description=(
        "jaxhin: six ML-systems papers as pure-function JAX modules. "
        "Every command takes --out FILE.json and --quiet."))
    parser.add_argument("--version", action="version", version=f"jaxhin {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="{info," + ",".join(SYSTEMS) + "}")
    info = groups.add_parser("info", help=INFO.help, parents=[common], description=INFO.help)
    info.set_defaults(command=INFO, system="jaxhin")
    for system in SYSTEMS:
        row = capability(system)
        # argparse %-formats help strings: a literal % in a status would break --help
        group = groups.add_parser(system, help=f"{row.paper} [{row.status}]".replace("%", "%%"),
                                  description=f"{row.paper}. Status: {row.status}.")
        group.set_defaults(system=system, command=None)
        commands = system_commands(system) if system in argv else ()
        if not commands:
            group.epilog = "No commands yet: this system is planned, not implemented."
            # Swallow any words so `jaxhin lda train` says "no commands yet", not "unrecognized".
            group.add_argument("words", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
            continue
        sub = group.add_subparsers(dest="command_name", metavar="COMMAND")
        for cmd in commands:
            p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help, parents=[common])
            cmd.add_arguments(p)
            p.set_defaults(command=cmd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on `argv` (default `sys.argv[1:]`) and return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.group is None:
        parser.error("no command given; choose one of info, " + ", ".join(SYSTEMS))
    cmd: Command | None = args.command
    prog = f"jaxhin {args.group}"
    if cmd is None:
        row = capability(args.group)
        if system_commands(args.group):
            parser.exit(2, f"{prog}: error: no command given (see {prog} --help)\n")
        parser.exit(2, f"{prog}: error: no commands yet ({row.status}): {row.paper}\n")
    if cmd is not INFO:
        prog = f"{prog} {cmd.name}"
    if cmd.devices is not None and (note := host_devices(cmd.devices(args))):
        print(note, file=sys.stderr)
    from jaxhin.data import DataError

    start = time.perf_counter()
    try:
        config, metrics = cmd.run(args)
    except (UsageError, DataError) as err:
        parser.exit(2, f"{prog}: error: {err}\n")
    wall_s = time.perf_counter() - start
    if args.out is not None:
        from jaxhin.train import make_results, write_results

        results = make_results(system=args.system, command=cmd.name, config=config,
                               metrics=metrics, wall_s=wall_s)
        if write_results(args.out, results) is not None:
            print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"jaxhin: warning: {message}\n"


def _interrupted(signum=None, frame=None) -> NoReturn:
    """Ctrl-C: remove the temporary files of writes in progress and exit 130 at once.

    Exiting from the handler, not by raising KeyboardInterrupt, because JAX runs Python
    callbacks (its gc hook) where an exception is printed and dropped, so a raised interrupt
    can be lost, and because tearing the interpreter down while XLA's compiler threads run
    segfaults (exit 139). Checkpoints need no care: orbax writes a step to a temporary folder
    and renames it when complete, and removes such leftovers on the next run.
    """
    try:
        # Looked up, not imported: the interrupt may come while jaxhin.data is importing.
        io = sys.modules.get("jaxhin.data._io")
        if io is not None and hasattr(io, "remove_pending_writes"):
            io.remove_pending_writes()
        print("\njaxhin: interrupted", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(130)


def console() -> NoReturn:
    """The `jaxhin` console script: `main()`, where Ctrl-C at any moment (imports, compilation,
    training, writing) prints one line and exits 130, leaving no partial file."""
    import signal
    import warnings

    signal.signal(signal.SIGINT, _interrupted)
    warnings.formatwarning = _one_line_warning
    try:
        status = main()
    except KeyboardInterrupt:  # raised by code that re-installed Python's default handler
        _interrupted()
    sys.exit(status)
