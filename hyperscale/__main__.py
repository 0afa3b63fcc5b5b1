"""Entry point of the `hyperscale` console script and of `python -m hyperscale`."""

from __future__ import annotations


def main() -> None:
    from hyperscale.cli import app

    app(prog_name="hyperscale")


if __name__ == "__main__":
    main()
