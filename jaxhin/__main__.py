"""`python -m jaxhin` is the `jaxhin` console script."""

from jaxhin.cli import console

if __name__ == "__main__":
    console()
