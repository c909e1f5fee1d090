"""CUDA errors that leave the process's CUDA context unusable.

After a *sticky* CUDA error (an illegal memory access, a device-side assert, a kernel that
faulted or timed out) every later CUDA call of the process fails with the same error: no fix
can be tried in it, and no tensor on the GPU can even be copied to the host. Such a crash is
not waited for (:meth:`.session.Session.end_device_lost`): daifu writes a process checkpoint
of what host memory holds, names the variables whose tensors were on the GPU as lost, and
ends the process, so that the person fixes the cause and runs ``daifu resume`` (or the
launcher restarts the job).

Recognized by the message, because the type alone does not tell: torch builds the message of
every failed CUDA check the same way (``c10/cuda/CUDAException.cpp``: ``"CUDA error: "`` and
``cudaGetErrorString(err)``, then help text) and raises it as ``torch.AcceleratorError`` (a
``RuntimeError``) in recent torch, a plain ``RuntimeError`` in older ones, for the errors that
poison the context and for those that do not (out of memory, an invalid argument, a kernel
image missing for this GPU) alike. ROCm builds say ``"HIP error: "``; Triton's launcher says
``"Triton Error [CUDA]: "``. Only the errors CUDA's documentation says leave the context in an
inconsistent state (the process must end) count here; the others are crashes like any other
(out of memory has its own policy, :mod:`.policy`).
"""

from __future__ import annotations

import re

#: ``cudaGetErrorString`` of the sticky errors (HIP's strings are the same for these).
STICKY = (
    "an illegal memory access was encountered",  # cudaErrorIllegalAddress
    "device-side assert triggered",  # cudaErrorAssert
    "unspecified launch failure",  # cudaErrorLaunchFailure
    "misaligned address",  # cudaErrorMisalignedAddress
    "an illegal instruction was encountered",  # cudaErrorIllegalInstruction
    "operation not supported on global/shared address space",  # cudaErrorInvalidAddressSpace
    "invalid program counter",  # cudaErrorInvalidPc
    "hardware stack error",  # cudaErrorHardwareStackError
    "the launch timed out and was terminated",  # cudaErrorLaunchTimeout
    "uncorrectable ecc error encountered",  # cudaErrorECCUncorrectable
    "uncorrectable nvlink error detected during the execution",  # cudaErrorNvlinkUncorrectable
    "context is destroyed",  # cudaErrorContextIsDestroyed
)

_ERROR = re.compile(r"(?:\b(?:CUDA|HIP) error|Triton Error \[(?:CUDA|HIP)\]): *([^\n]*)")


def lost_context(exc: BaseException) -> str | None:
    """The CUDA error's own words when *exc* (or an exception it was raised from or while
    handling) is one that poisons the CUDA context; ``None`` otherwise."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        said = _sticky(current)
        if said is not None:
            return said
        current = current.__cause__ or current.__context__
    return None


def _sticky(exc: BaseException) -> str | None:
    if not isinstance(exc, RuntimeError):  # torch.AcceleratorError is one
        return None
    for match in _ERROR.finditer(str(exc)):
        words = match.group(1).strip()
        if words.lower().startswith(STICKY):
            return words
    return None
