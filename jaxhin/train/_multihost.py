"""Starting a script on one or several processes through `jax.distributed`, one way for all
`scripts/*_multihost.py`.

Example:
  >>> parser = argparse.ArgumentParser()  # doctest: +SKIP
  >>> add_multihost_arguments(parser, port=12355)
  >>> args = parser.parse_args(); start_multihost(args)   # before the first use of a device
"""

from __future__ import annotations

import argparse
import os
import sys


def add_multihost_arguments(parser: argparse.ArgumentParser, port: int) -> None:
    """--processes, --process-id, --local-devices and --coordinator (default 127.0.0.1:PORT)."""
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--process-id", type=int, default=0)
    parser.add_argument("--local-devices", type=int, default=None,
                        help="fake CPU devices per process (sets XLA_FLAGS before JAX starts)")
    parser.add_argument("--coordinator", default=f"127.0.0.1:{port}")


def start_multihost(args: argparse.Namespace) -> None:
    """Apply --local-devices, join the other processes when --processes > 1, and log the
    process and device counts. Call it before anything touches a device: XLA reads XLA_FLAGS
    when the first backend starts, not when jax is imported."""
    if args.local_devices:
        os.environ["XLA_FLAGS"] = (f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform"
                                   f"_device_count={args.local_devices}").strip()
    import jax

    if args.processes > 1:
        jax.distributed.initialize(args.coordinator, num_processes=args.processes,
                                   process_id=args.process_id)
    print(f"process {jax.process_index()}/{jax.process_count()}: {jax.local_device_count()} "
          f"local of {jax.device_count()} devices", file=sys.stderr)


def stop_multihost(args: argparse.Namespace) -> None:
    """Leave the process group (a no-op on one process)."""
    if args.processes > 1:
        import jax

        jax.distributed.shutdown()
