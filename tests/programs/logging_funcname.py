"""logging records carry the name of the function that logs (%(funcName)s), also from a
with body, a try/finally part and script-level code."""
import contextlib
import logging
import sys

logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(funcName)s | %(message)s")
log = logging.getLogger("train")


def train(steps):
    log.info("start")
    for step in range(steps):
        with contextlib.nullcontext():
            log.info("step %d", step)
    try:
        log.info("in try")
    finally:
        log.info("in finally")


train(2)
for epoch in range(1):
    log.info("script loop %d", epoch)
    with contextlib.nullcontext():
        log.info("script with body")
