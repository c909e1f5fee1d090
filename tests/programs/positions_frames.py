"""Positions read from frames and line events (inspect.stack(), sys.settrace, a debugger):
these see the vaccinated file's lines and daifu's frames (README, Limitations)."""
import contextlib
import inspect
import io
import os
import pdb
import sys


def where(frame_info):
    folder = os.path.basename(os.path.dirname(frame_info.filename))
    return f"{folder}/{os.path.basename(frame_info.filename)}:{frame_info.lineno} {frame_info.function}"


def probe(n):
    for i in range(n):
        with contextlib.nullcontext():
            print("inspect:", [where(f) for f in inspect.stack()[:3]])


def traced(n):
    total = 0
    for i in range(n):
        total += i
    return total


def tracer(frame, event, arg):
    if frame.f_code.co_name == "traced":
        if event == "line":
            print("line event:", frame.f_lineno)
        return tracer
    return None


def debugged(n):
    for i in range(n):
        debugger = pdb.Pdb(stdin=io.StringIO("where\ncontinue\n"), stdout=io.StringIO(), readrc=False)
        debugger.set_trace()
        x = i
    sys.settrace(None)
    shown = debugger.stdout.getvalue().replace(os.path.dirname(os.path.abspath(__file__)), "<dir>")
    print("pdb:", [line for line in shown.splitlines() if "<dir>" in line])


probe(1)
sys.settrace(tracer)
traced(2)
sys.settrace(None)
debugged(1)
