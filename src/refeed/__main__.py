"""``python -m refeed`` and the ``refeed`` console script.

The command line is imported inside :func:`run`, not here: every parse worker re-imports
the script that started the program, and importing the whole application there (HTTP
client, renderer, scheduler) would cost each worker ~30 MiB it never uses.
"""


def run() -> None:
    """Run the ``refeed`` command line."""
    from refeed.cli import main  # noqa: PLC0415

    main()


if __name__ == "__main__":
    run()
