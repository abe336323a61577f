"""Imported by the ``forkserver`` process before it forks any parse worker (see
``pipeline.make_worker_pool``). It builds the language detectors named in the environment
and imports the MinHash library, so the workers share those models copy-on-write instead
of each loading its own copy (lingua's three-language models alone are ~130 MB)."""

from refeed.dedup import text_likeness
from refeed.language import preload_from_environment

preload_from_environment()
text_likeness("")  # imports datasketch (and scipy) here, once
