"""Keys of its own for each attempt of a torchrun job, where the program sets its group up.

torchrun's agent hosts one store for every attempt of a run (workers reach it at the same
``MASTER_PORT``; ``TORCHELASTIC_USE_AGENT_STORE=True``), and ``init_process_group``'s env://
rendezvous writes its keys (each rank's gloo address among them) there without the attempt in
them: torch assumes a new store each retry. A rank of a restarted attempt that reads a peer's
address before the peer wrote its new one gets the dead attempt's ("Connection refused", then
``Gloo connectFullMesh failed``) or a rendezvous that never completes: measured with plain
torchrun, 3 of 4 restarts refused and 1 hung. So in a restarted attempt (and only there:
the first runs exactly as without daifu), the env:// handler's store is wrapped in a
``PrefixStore`` of that attempt: the same keys, a fresh namespace. A job resumed from daifu's
checkpoint sets its group up with keys of its own attempt likewise (:mod:`.jobcheckpoint`).
"""

from __future__ import annotations

import os

from . import on_import

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_MODULE = "torch.distributed.rendezvous"
#: The namespace of an attempt's keys in the agent's store.
PREFIX = "daifu/attempt/{}/"


def install() -> None:
    """Called by the shim of a torchrun worker; a no-op in a job's first attempt."""
    env = os.environ
    if env.get("TORCHELASTIC_RESTART_COUNT", "0") in ("", "0") or env.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return
    if env.get("DAIFU_ATTEMPT_KEYS", "1") == "0":
        return
    on_import.when_imported(_MODULE, _wrap)


def _wrap(module: Any) -> None:
    handlers = getattr(module, "_rendezvous_handlers", None)
    if not isinstance(handlers, dict):  # not the torch this was written against: leave it
        return
    original = handlers.get("env")
    if original is None or getattr(original, "_daifu_attempt", False):
        return
    attempt = os.environ["TORCHELASTIC_RESTART_COUNT"]

    def env_rendezvous(url: str, *args: Any, **kwargs: Any) -> Any:
        from torch.distributed import PrefixStore

        for store, rank, world_size in original(url, *args, **kwargs):
            yield PrefixStore(PREFIX.format(attempt), store), rank, world_size

    env_rendezvous._daifu_attempt = True  # type: ignore[attr-defined]
    handlers["env"] = env_rendezvous
