"""Imported by the parse pool's forkserver, and by nothing else (see
:func:`refeed.pipeline.make_worker_pool`): before it forks any worker, it imports the
worker's modules and loads the language models of the policy named in
``$REFEED_WORKER_LANGUAGES``, so the workers share the ~100 MiB of lingua models instead
of each loading its own copy. Importing it anywhere else would load models for nothing.
"""

from __future__ import annotations

import json
import os

from refeed.language import LanguagePolicy, preload
from refeed.worker import SHARED_LANGUAGES


def _load_shared_detectors() -> None:
    named = json.loads(os.environ.get(SHARED_LANGUAGES) or "{}")
    if named.get("languages"):
        policy = LanguagePolicy(languages=tuple(named["languages"]),
                                low_accuracy=bool(named["low_accuracy"]),
                                others=tuple(named["others"]))
        preload(policy)


_load_shared_detectors()
