"""Data positions in process checkpoints: where a live loader iterator stands in its epoch.

A ``for batch in loader:`` loop keeps its iterator in a local (``_daifu_it_L12``), which the
process checkpoint pickles with the frame's other variables. Iterators over lists, ranges,
``enumerate``, ``zip`` and dict views pickle by position already. A ``DataLoader`` iterator
refuses pickle (it may own worker processes); this module saves it as what reproduces the rest
of its epoch instead, and rebuilds it in the resumed process:

* **``torch.utils.data.DataLoader``** (map-style dataset): the loader, the number of batches
  yielded, and the random states at the moment the iterator was created (the loader's and the
  samplers' ``torch.Generator``s, torch's global one, and Python's and NumPy's where a sampler
  is not torch's own). That
  moment is recorded by a wrapper around ``DataLoader.__iter__`` (installed when
  ``torch.utils.data.dataloader`` is imported; ``DAIFU_LOADERS=0`` leaves it alone), because
  by the time of a checkpoint the sampler has drawn its order and, with workers, already sent
  indices ahead to them that the iterator does not keep. The resumed process sets those states,
  builds a fresh iterator of the same loader (so it draws the same worker base seed and the
  same order), skips the consumed batches' *indices* without loading them, deals the next
  batch to the worker that loaded it in the original, and then puts every generator back to
  its state at the checkpoint.
* **torchdata's ``StatefulDataLoader``**: its iterator's own ``state_dict()``, loaded back
  through the loader's ``load_state_dict()``.

What cannot be reproduced (an iterable-style dataset, a sampler that is a one-shot iterator,
out-of-order delivery, persistent workers, an iterator created before the wrapper was
installed) raises :class:`CannotSave` with the reason, so the checkpoint names it.

Unpickling cannot build the iterators on the spot: an iterator may be loaded before the loader
it refers to is whole (the loader's state can contain the iterator). So each comes back as a
blank instance of its class (identity kept: an ``enumerate`` or a variable sharing it gets the
same object) and :func:`finish` initializes them in place once the whole payload is loaded.
"""

from __future__ import annotations

import os
import sys

from . import on_import

TYPE_CHECKING = False  # typing is not imported at run time: every program start pays for it
if TYPE_CHECKING:
    from typing import Any

_MODULE = "torch.utils.data.dataloader"
_STATEFUL = "torchdata.stateful_dataloader.stateful_dataloader"


class CannotSave(Exception):
    """A loader iterator whose position cannot be saved; the message says why."""


# -- recording where each epoch started -------------------------------------------------------

#: iterator -> (its loader, the random states when it was created)
_starts: Any = None


def install() -> None:
    """Called once by the shim: wrap ``DataLoader.__iter__`` now or when torch loads it."""
    if os.environ.get("DAIFU_LOADERS", "1") == "0":
        return
    on_import.when_imported(_MODULE, _patch)


def _patch(module: Any) -> None:
    global _starts
    import weakref

    loader_class = module.DataLoader
    original = loader_class.__iter__
    if getattr(original, "_daifu_original", None) is not None:
        return
    _starts = weakref.WeakKeyDictionary()

    def __iter__(self: Any) -> Any:
        # Persistent workers are not saved (and the loader holds its iterator: recording the
        # loader here would keep both, and the workers, alive for good).
        start = None
        if not getattr(self, "persistent_workers", False):
            try:
                start = _random_states(self)
            except Exception:  # whatever a sampler holds, the program's iter() must not fail
                pass
        iterator = original(self)
        if start is not None:
            try:
                _starts[iterator] = (self, start)
            except TypeError:  # an iterator type without weak references
                pass
        return iterator

    __iter__.__doc__ = original.__doc__
    __iter__.__qualname__ = original.__qualname__
    __iter__._daifu_original = original  # type: ignore[attr-defined]
    loader_class.__iter__ = __iter__


def _samplers(loader: Any) -> list[Any]:
    """A loader's sampler, its batch sampler and the batch sampler's sampler."""
    batch_sampler = getattr(loader, "batch_sampler", None)
    found = [
        getattr(loader, "sampler", None),
        batch_sampler,
        getattr(batch_sampler, "sampler", None),
    ]
    return [s for i, s in enumerate(found) if s is not None and s not in found[:i]]


def _random_states(loader: Any) -> dict[str, Any]:
    """What the loader's order and worker seeds are drawn from: the generators held by it, its
    samplers and what they hold (``torch.Generator``, ``random.Random``, NumPy's ``RandomState``
    and ``Generator``) and torch's global generator; and, where a sampler is not one of torch's
    own (which draw from those only), Python's and NumPy's global generators."""
    import torch

    samplers = _samplers(loader)
    kinds = _generator_types()
    held: dict[int, Any] = {}
    holders = [loader, *samplers]
    for holder in [*holders, *(v for h in samplers for v in getattr(h, "__dict__", {}).values())]:
        for value in getattr(holder, "__dict__", {}).values():
            if isinstance(value, kinds):
                held[id(value)] = value
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "generators": [(g, _state_of(g)) for g in held.values()],
    }
    if any(not type(s).__module__.startswith("torch.utils.data.") for s in samplers):
        import random

        states["python"] = random.getstate()
        numpy: Any = sys.modules.get("numpy")
        if numpy is not None:
            states["numpy"] = numpy.random.get_state()
    return states


_kinds: tuple[Any, tuple[type, ...]] = (None, ())


def _generator_types() -> tuple[type, ...]:
    """The random generator classes (NumPy's once it is loaded), looked up once."""
    global _kinds
    numpy: Any = sys.modules.get("numpy")
    if _kinds[0] is not numpy or not _kinds[1]:
        import random

        import torch

        found: tuple[type, ...] = (torch.Generator, random.Random)
        if numpy is not None:
            found += (numpy.random.RandomState, numpy.random.Generator)
        _kinds = (numpy, found)
    return _kinds[1]


def _state_of(value: Any) -> Any:
    """The state of a random generator object (one of :func:`_generator_types`)."""
    import random

    import torch

    if isinstance(value, torch.Generator):
        return value.get_state()
    if isinstance(value, random.Random):
        return value.getstate()
    if isinstance(value, sys.modules["numpy"].random.RandomState):
        return value.get_state()
    return value.bit_generator.state


def _set_state(value: Any, state: Any) -> None:
    import random

    import torch

    if isinstance(value, torch.Generator):
        value.set_state(state)
    elif isinstance(value, random.Random):
        value.setstate(state)
    elif isinstance(value, sys.modules["numpy"].random.RandomState):
        value.set_state(state)
    else:
        value.bit_generator.state = state


def _current(states: dict[str, Any], loader: Any) -> dict[str, Any]:
    """The states now of what *loader* draws from and of all that *states* recorded (a
    generator the loader has dropped since is put back too)."""
    import random

    now = _random_states(loader)
    known = {id(g) for g, _ in now["generators"]}
    now["generators"] += [(g, _state_of(g)) for g, _ in states["generators"] if id(g) not in known]
    if "python" in states and "python" not in now:
        now["python"] = random.getstate()
    if "numpy" in states and "numpy" not in now:
        now["numpy"] = sys.modules["numpy"].random.get_state()
    return now


def _set_random_states(states: dict[str, Any]) -> None:
    import random

    import torch

    torch.set_rng_state(states["torch"])
    if "python" in states:
        random.setstate(states["python"])
    if "numpy" in states:
        import numpy

        numpy.random.set_state(states["numpy"])
    for generator, state in states["generators"]:
        _set_state(generator, state)


# -- saving ------------------------------------------------------------------------------------


def dispatch_table(roots: Any) -> dict[type, Any]:
    """Reducers for the loader iterator types loaded in this process (exact types, as pickle's
    ``dispatch_table`` wants), on top of :mod:`copyreg`'s. *roots* are the values about to be
    saved: a StatefulDataLoader among them is how its iterator finds its loader."""
    import copyreg

    table: dict[type, Any] = dict(copyreg.dispatch_table)
    module = sys.modules.get(_MODULE)
    if module is not None:
        table[module._SingleProcessDataLoaderIter] = _reduce_torch
        table[module._MultiProcessingDataLoaderIter] = _reduce_torch
    stateful = sys.modules.get(_STATEFUL)
    if stateful is not None:
        owners = {
            id(value._iterator): value
            for value in roots
            if isinstance(value, stateful.StatefulDataLoader) and value._iterator is not None
        }

        def reduce_stateful(iterator: Any) -> Any:
            return _reduce_stateful(iterator, owners.get(id(iterator)))

        table[stateful._StatefulSingleProcessDataLoaderIter] = reduce_stateful
        table[stateful._StatefulMultiProcessingDataLoaderIter] = reduce_stateful
    return table


def _reduce_torch(iterator: Any) -> Any:
    module = sys.modules[_MODULE]
    if iterator._dataset_kind == module._DatasetKind.Iterable:
        raise CannotSave(
            "a DataLoader iterator over an iterable-style dataset: its position cannot be reproduced"
        )
    if not getattr(iterator, "_in_order", True):
        raise CannotSave(
            "a DataLoader iterator with in_order=False: its order depends on the workers' timing"
        )
    if iterator._persistent_workers:
        raise CannotSave("a DataLoader iterator with persistent_workers: not supported yet")
    recorded = _starts.get(iterator) if _starts is not None else None
    if recorded is None:
        raise CannotSave(
            "a DataLoader iterator created before daifu could record its start (DAIFU_LOADERS=0?)"
        )
    loader, start = recorded
    if hasattr(loader._index_sampler, "__next__"):
        raise CannotSave(
            "a DataLoader whose sampler is a one-shot iterator: its order cannot be reproduced"
        )
    if not _same_base_seed(loader, start, iterator._base_seed):
        raise CannotSave(
            "a DataLoader iterator whose recorded start does not reproduce its worker seed"
        )
    state = {"kind": "torch", "loader": loader, "start": start, "yielded": iterator._num_yielded}
    return (_blank, (type(iterator),), state, None, None, _defer)


def _same_base_seed(loader: Any, start: dict[str, Any], base_seed: int) -> bool:
    """Whether the recorded states draw the iterator's worker base seed again: the check that
    the record belongs to this iterator and that the loader's generator is the one recorded.
    (The iterator called ``iter()`` on its sampler before that draw; the check does not, as
    that may change the running program's sampler. A sampler that draws from the same
    generator right in ``iter()`` fails the check: refused, not resumed wrong.)"""
    import torch

    now = _current(start, loader)
    try:
        _set_random_states(start)
        drawn = torch.empty((), dtype=torch.int64).random_(generator=loader.generator).item()
    finally:
        _set_random_states(now)
    return bool(drawn == base_seed)


def _reduce_stateful(iterator: Any, loader: Any) -> Any:
    if loader is None:
        raise CannotSave(
            "a StatefulDataLoader iterator whose loader is not a variable of a saved frame or module"
        )
    state = {"kind": "stateful", "loader": loader, "state": iterator.state_dict()}
    return (_blank, (type(iterator),), state, None, None, _defer)


# -- restoring ---------------------------------------------------------------------------------

_pending: list[tuple[Any, dict[str, Any]]] = []


def _blank(cls: type) -> Any:
    new: Any = cls.__new__
    return new(cls)


def _defer(iterator: Any, state: dict[str, Any]) -> None:
    _pending.append((iterator, state))


def finish() -> None:
    """Initialize, in place, the loader iterators the payload just loaded (see the module's
    docstring for why not during loading). Raises :class:`CannotSave` if one cannot be."""
    pending = list(_pending)
    _pending.clear()
    for iterator, state in pending:
        try:
            if state["kind"] == "stateful":
                _restore_stateful(iterator, state)
            else:
                _restore_torch(iterator, state)
        except Exception as exc:  # a worker that cannot start, a changed torch: say which
            raise CannotSave(f"{type(iterator).__name__}: {type(exc).__name__}: {exc}") from exc


def _restore_torch(iterator: Any, state: dict[str, Any]) -> None:
    loader = state["loader"]
    at_checkpoint = _current(state["start"], loader)
    # A copy of the loader whose sampler skips the consumed batches: the fresh iterator sends
    # workers only the batches still to come.
    copy = object.__new__(type(loader))
    copy.__dict__.update(loader.__dict__)
    copy.__dict__["_iterator"] = None
    field = "batch_sampler" if loader._auto_collation else "sampler"
    copy.__dict__[field] = _Skipping(loader._index_sampler, state["yielded"])
    if loader.num_workers > 0:
        _deal_from(iterator, state["yielded"] % loader.num_workers)
    try:
        _set_random_states(state["start"])
        type(iterator).__init__(iterator, copy)
        iterator._sampler_iter.skip()  # with workers, the first prefetch already did
    finally:
        _set_random_states(at_checkpoint)
    iterator._index_sampler = loader._index_sampler  # len() and a later _reset see the loader's
    iterator._num_yielded = state["yielded"]
    if _starts is not None:
        _starts[iterator] = (loader, state["start"])  # a later checkpoint saves it again


def _deal_from(iterator: Any, worker: int) -> None:
    """Batches go to the workers in turn: batch k to worker k mod n. Make the fresh iterator's
    first batch go to *worker*, as the same batch went in the original, so each batch is loaded
    by a worker with the same id and seed. The turn is set up inside ``__init__``, just before
    the first batch is sent: this shadows ``_try_put_index`` once, on the instance."""

    def first_put() -> None:
        del iterator._try_put_index  # the class's method from now on
        for _ in range(worker):
            next(iterator._worker_queue_idx_cycle)
        iterator._try_put_index()

    iterator._try_put_index = first_put


class _Skipping:
    """A sampler that yields what *sampler* yields after its first *count* items. ``iter()``
    is called when the original called it; the skipping is done at the first ``next()`` (when
    the original drew its first indices, so random draws come in the original order) or by
    :meth:`_SkippingIterator.skip`."""

    def __init__(self, sampler: Any, count: int) -> None:
        self.sampler = sampler
        self.count = count

    def __iter__(self) -> Any:
        return _SkippingIterator(iter(self.sampler), self.count)

    def __len__(self) -> int:
        return len(self.sampler)


class _SkippingIterator:
    def __init__(self, iterator: Any, count: int) -> None:
        self.iterator = iterator
        self.count = count

    def skip(self) -> None:
        while self.count:
            self.count -= 1
            next(self.iterator, None)

    def __iter__(self) -> _SkippingIterator:
        return self

    def __next__(self) -> Any:
        if self.count:
            self.skip()
        return next(self.iterator)


def _restore_stateful(iterator: Any, state: dict[str, Any]) -> None:
    loader = state["loader"]
    loader.load_state_dict(state["state"])
    type(iterator).__init__(iterator, loader, loader.next_iter_state)
    loader.next_iter_state = None
    loader._iterator = iterator
