"""A stand-in for the distributed helpers of a multi-rank job (this run is rank 0 of 1).

``barrier()`` waits for the other ranks. The simulated process group times out once, on the 8th
barrier of the run, as a real one does when a peer is slow (a noisy neighbour, a long
checkpoint write); the marker file ``.fault_fired`` records that it did.
"""

import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = os.path.join(HERE, ".fault_fired")
_calls = 0


def barrier(timeout=30.0):
    global _calls
    _calls += 1
    if _calls == 8 and not os.path.exists(MARKER):
        open(MARKER, "w").close()
        raise TimeoutError(f"barrier timed out after {timeout:.1f}s: rank 1 did not arrive (store key /barrier/{_calls})")
    time.sleep(0.001)  # the other ranks are already there
