"""An uncaught exception of a class defined at script level, raised from a `with` body
in a method called from a script-level loop; its __cause__ chain is printed too."""
import contextlib


class TrainingError(RuntimeError):
    pass


class Trainer:
    def fit(self, epochs):
        for epoch in range(epochs):
            with contextlib.nullcontext():
                print("epoch", epoch)
                if epoch == 1:
                    try:
                        {}["lr"]
                    except KeyError as exc:
                        raise TrainingError(f"missing key at epoch {epoch}") from exc


for run in range(2):
    print("run", run)
    Trainer().fit(3)
