"""Closing the `torch.distributed` state keraslike made before the interpreter is torn down.

gloo runs collectives on its own C++ threads, and the work they finish can hold the last
reference to a tensor that Python created. Released after interpreter finalization began, such a
tensor makes its thread take the GIL, which ends the thread mid-destructor: the process aborts
with "terminate called without an active exception" (SIGABRT) after the script has finished.
`destroy_process_group()` alone does not prevent it: each `DistributedDataParallel` wrapper holds
the process group, so it lives (with its threads) until the models are freed during
finalization. At exit, while the interpreter is whole, this drops the wrappers the trainer made,
closes the group `keras.distribution.initialize()` made, and collects, so the group and its
threads end first.
"""

import atexit
import datetime
import gc
import weakref

import torch.distributed as dist

_WRAPPER_HOLDERS = weakref.WeakSet()  # step states holding a DistributedDataParallel wrapper
_OWN_GROUP = [False]  # whether initialize() made the running group (so it may close it)
_REGISTERED = [False]


def _register():
    if not _REGISTERED[0]:
        _REGISTERED[0] = True
        atexit.register(_close_at_exit)


def note_wrapper_holder(state):
    """Records that `state.ddp` holds a wrapper (and thereby the process group) to drop at exit."""
    _WRAPPER_HOLDERS.add(state)
    _register()


def note_own_group():
    """Records that `keras.distribution.initialize()` made the running process group."""
    _OWN_GROUP[0] = True
    _register()


def _close_at_exit():
    for state in list(_WRAPPER_HOLDERS):
        state.ddp = None
    if _OWN_GROUP[0] and dist.is_initialized():
        try:
            # Every process reaches this point before any closes its connections: a peer
            # closing first makes gloo's receiving thread fail and abort the process.
            # (gloo only, with a timeout: a peer that crashed cannot make this one hang.)
            if dist.get_backend() == "gloo":
                dist.monitored_barrier(timeout=datetime.timedelta(seconds=60))
            dist.destroy_process_group()
        except (RuntimeError, ValueError):
            pass  # a peer is gone or the group was torn down: nothing left to wait for
    # Frees the wrappers (they sit in reference cycles with their models) and with them the
    # group's last references: its threads are joined here, not during finalization.
    gc.collect()
