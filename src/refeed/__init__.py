"""refeed: aggregate RSS/Atom/JSON feeds into one SQLite timeline and republish filtered feeds."""

# the one place the version is written (pyproject reads it): importlib.metadata would
# cost every command and every pool worker ~60 ms of imports
__version__ = "0.1.0.dev0"

PROJECT_URL = "https://github.com/refeed/refeed"
USER_AGENT = f"refeed/{__version__} (+{PROJECT_URL})"

__all__ = ["PROJECT_URL", "USER_AGENT", "__version__"]
