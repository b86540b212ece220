"""What a worker process does before it takes tasks: it computes with `WORKER_THREADS` threads
and, with `WORKER_PRELOAD`, loads the models once in the parent process, before the worker
processes are forked from it (Celery's prefork pool, django-q2's cluster), so that they share
those pages instead of each loading a copy on its first message.

Sizing: one worker process per core, one compute thread each (the defaults). More threads per
process only pay on a machine with idle cores; more processes than cores only queue for them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os

from django.conf import settings
from django.db import connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)
# By dotted path, as the task table names tasks: the floor never imports the rooms above it.
PRELOAD = "triage.registry.preload_models"


def worker_prepare() -> None:
    """Call in the worker's parent process before it forks, before any model is loaded."""
    # The encoder's OpenMP runtime reads this once, when the encoder is first loaded.
    os.environ["OMP_NUM_THREADS"] = str(settings.WORKER_THREADS)
    if not settings.WORKER_PRELOAD:
        return
    try:
        # The encoder's OpenMP runtime must not start threads before the fork (a child would
        # wait for threads it does not have): with one thread it starts none, and may embed.
        import_string(PRELOAD)(embed=settings.WORKER_THREADS == 1)
    except Exception:  # e.g. the database is not up yet: the worker must start all the same
        logger.exception("preloading the models failed; each worker loads them when it needs them")
    # A forked child must not share the parent's database sockets.
    connections.close_all()
    # What was loaded stays put: the children's garbage collector then never writes to (and so
    # copies) the pages they share.
    gc.freeze()
    release_free_memory()


def release_free_memory() -> None:
    """Give the heap's free pages back to the system. Loading the models reads and unpickles
    whole files into buffers that are freed afterwards; the C allocator (glibc) keeps those
    pages (~40 MB), and each forked worker would inherit them as its own resident memory."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    trim = getattr(libc, "malloc_trim", None)  # glibc only (not musl, not macOS)
    if trim is not None:
        trim(0)
