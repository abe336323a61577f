"""``python -m refeed``: the same entry point as the ``refeed`` console script."""

from refeed.cli import main

main()
