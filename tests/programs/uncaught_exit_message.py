"""sys.exit with a message from a try/finally body in a method: the message goes to stderr
and the status is 1; the finally runs first."""
import sys


class Runner:
    def run(self, items):
        for item in items:
            try:
                print("item", item)
                if item == "bad":
                    sys.exit(f"stopping at {item}")
            finally:
                print("cleanup", item)


Runner().run(["a", "bad", "c"])
