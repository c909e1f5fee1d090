"""A program's own hooks keep working and see the user's positions: its sys.excepthook (which
formats the traceback itself), its logging record factory, and a handler that reads records'
pathname and lineno."""
import logging
import os
import sys
import traceback


def where(path, line):
    return f"{os.path.basename(os.path.dirname(path))}/{os.path.basename(path)}:{line}"


def own_excepthook(kind, value, tb):
    for frame in traceback.extract_tb(tb):
        print("  ", where(frame.filename, frame.lineno), frame.name, frame.line, file=sys.stderr)
    print("own excepthook:", kind.__name__, file=sys.stderr)


default_factory = logging.getLogRecordFactory()


def own_factory(*args, **kwargs):
    record = default_factory(*args, **kwargs)
    record.where = where(record.pathname, record.lineno)
    return record


class Printer(logging.Handler):
    def emit(self, record):
        print("record:", record.where, record.funcName, record.getMessage())


sys.excepthook = own_excepthook
logging.setLogRecordFactory(own_factory)
log = logging.getLogger("own")
log.addHandler(Printer())
log.propagate = False


def train(steps):
    for step in range(steps):
        log.warning("step %d", step)
        if step == 1:
            {}["missing"]


train(3)
