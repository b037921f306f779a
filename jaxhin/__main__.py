"""`python -m jaxhin` is the `jaxhin` console script."""

import sys

from jaxhin.cli import main

if __name__ == "__main__":
    sys.exit(main())
