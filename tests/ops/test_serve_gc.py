"""``onthaal serve`` tunes the cyclic garbage collector before serving
(onthaal/cli.py; why in docs/performance.md, "Load")."""

from __future__ import annotations

import gc

from onthaal import cli


def test_what_the_server_loaded_is_frozen_and_young_generations_are_larger() -> None:
    thresholds = gc.get_threshold()
    try:
        cli._tune_garbage_collector()
        assert gc.get_threshold() == cli.GC_THRESHOLDS
        assert cli.GC_THRESHOLDS[0] > thresholds[0]
        # Django, the apps and the test modules: no collection walks them again.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
