"""Keys of the restarted attempt's own for the program's ``init_process_group``.

torchrun's agent keeps one TCPStore for every attempt of a run (the workers get the same
``MASTER_PORT`` and ``TORCHELASTIC_USE_AGENT_STORE=True``), and ``init_process_group``'s
``env://`` keys (each rank's gloo address, the start-up barrier's counter) carry no attempt:
a rank of a restarted attempt reads keys the attempt before left, and its process group fails
to connect ("Connection refused", ``Gloo connectFullMesh failed``) or never completes its
rendezvous. Measured on this machine with plain torchrun, no daifu: 3 of 4 restarts refused,
1 hung (see the README). So in a restarted worker that runs the program from its start, daifu
puts the store torch's ``env://`` rendezvous makes under a prefix of the attempt's own
(``daifu/attempt/<restart count>/``), as daifu's own resume does for the group it sets up
(:func:`.jobcheckpoint.before_load`). Only the client of the agent's shared store is wrapped
(``env://`` and ``tcp://`` under torchrun): a program that passes a ``store`` of its own is
left alone, and nothing else of its set-up changes. ``DAIFU_JOB_RESUME=0`` leaves torch as it
is (the restart then behaves exactly as torchrun alone).
"""

from __future__ import annotations

import os

from . import on_import

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from typing import Any

_MODULE = "torch.distributed.rendezvous"


def install() -> None:
    """Called by the shim of a worker torchrun restarted (restart count > 0)."""
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return
    on_import.when_imported(_MODULE, _wrap)


def _wrap(module: Any) -> None:
    original = getattr(module, "_create_c10d_store", None)
    if original is None or getattr(original, "_daifu_original", None) is not None:
        return
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")

    def _create_c10d_store(*args: Any, **kwargs: Any) -> Any:
        store = original(*args, **kwargs)
        if not module._torchelastic_use_agent_store():
            return store  # rank 0 hosts a store of this attempt's own: nothing stale in it
        import torch.distributed as dist

        return dist.PrefixStore(f"daifu/attempt/{attempt}/", store)

    _create_c10d_store._daifu_original = original  # type: ignore[attr-defined]
    module._create_c10d_store = _create_c10d_store
