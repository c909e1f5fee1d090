"""exec/eval/locals()/globals()/vars()/dir() at module level (in loops and with bodies) and
inside functions; functions that inspect their own namespace are left as they were."""
import contextlib

alpha = 1


def uses_locals(a, b=2):
    c = a + b
    for _ in range(1):
        snapshot = sorted(locals())
    return snapshot, dir(), sorted(vars())


def uses_eval(expr):
    x = 10
    for _ in range(1):
        return eval(expr)


def uses_exec(code):
    namespace = {"start": 5}
    for _ in range(1):
        exec(code, namespace)
    return namespace["result"]


def eval_with_globals(expr):
    with contextlib.nullcontext():
        return eval(expr, globals(), {"local_only": 3})


def globals_writer(name, value):
    with contextlib.nullcontext():
        globals()[name] = value
    return sorted(k for k in globals() if k.startswith("gen_"))


print(uses_locals(1))
print(uses_eval("x * 2"), uses_eval("alpha + 1"))
print(uses_exec("result = start * 3"))
print(eval_with_globals("alpha + local_only"))
print(globals_writer("gen_a", 1), globals_writer("gen_b", 2), gen_a + gen_b)

for step in range(2):
    exec(f"dyn_{step} = {step} * 100")
    with contextlib.nullcontext():
        exec("dyn_sum = sum(v for k, v in globals().items() if k.startswith('dyn_') and k != 'dyn_sum')")
        value = eval("dyn_0 + alpha")
print(dyn_0, dyn_1, dyn_sum, value)
print(locals() is globals(), vars() is globals(), "alpha" in dir(), dir() == sorted(globals()))
print(sorted(k for k in locals() if not k.startswith("__")))
exec("print('exec sees', sorted(k for k in locals() if k.startswith('dyn_')))")
print(eval("sorted(k for k in vars() if k.startswith('gen_'))"))
code = compile("compiled_value = alpha * 7", "<string>", "exec")
exec(code, globals(), locals())
print(compiled_value)
ns = {}
exec("inner = 1", ns)
print(sorted(k for k in ns if k != "__builtins__"))
print(eval("alpha", {"alpha": "shadowed"}), eval("alpha", globals(), {"alpha": "local"}))
if __name__ == "__main__":
    print(__name__, sorted(k for k in vars() if k in ("alpha", "step", "value")))
