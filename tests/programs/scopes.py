"""global/nonlocal in every position, del of names/attributes/subscripts, names first bound
inside with/try-finally bodies, closures reading live values, unbound locals."""
import contextlib

counter = 0
registry = {}


def bump_in_with(n):
    global counter
    with contextlib.nullcontext():
        for _ in range(n):
            counter += 1
    return counter


def global_declared_in_with():
    with contextlib.nullcontext():
        global late_global
        late_global = "set from a with body"
    return late_global


def global_in_finally():
    try:
        pass
    finally:
        global from_finally
        from_finally = [1, 2]
    return from_finally


def nonlocal_chain():
    level = 0

    def outer():
        nonlocal level
        with contextlib.nullcontext():
            level += 1

            def inner():
                nonlocal level
                for _ in range(2):
                    level += 10
                return level

            got = inner()
        return got

    first = outer()
    return first, level


def first_bound_in_cell(flag):
    with contextlib.nullcontext():
        if flag:
            created = "bound in the with body"
    try:
        return created
    except UnboundLocalError as exc:
        return type(exc).__name__


def deletions():
    log = []

    class Obj:
        pass

    o = Obj()
    o.attr = 1
    data = {"a": 1, "b": 2}
    items = [0, 1, 2, 3]
    name = "temp"
    with contextlib.nullcontext():
        del o.attr
        del data["a"], items[1:3]
        del name
    log.append((hasattr(o, "attr"), data, items))
    try:
        name
    except NameError as exc:
        log.append(type(exc).__name__)
    name = "rebound"
    log.append(name)
    for k in list(data):
        try:
            del data[k]
        finally:
            log.append(f"deleted {k}")
    return log


def closures_live():
    fns = []
    value = "first"
    with contextlib.nullcontext():
        fns.append(lambda: value)
        value = "second"

        def reader():
            return value

        fns.append(reader)
    value = "third"
    results = [f() for f in fns]
    value = "fourth"
    results.append(fns[0]())
    return results


def loop_variable_capture():
    getters = []
    for i in range(3):
        with contextlib.nullcontext():
            getters.append(lambda: i)
            getters.append(lambda i=i: i)
    return [g() for g in getters]


def shadow_builtin_in_cell(values):
    with contextlib.nullcontext():
        len = lambda seq: -1
        inside = len(values)
    return inside, len(values)


def class_in_function_reads_locals():
    size = 3
    with contextlib.nullcontext():
        size = 4

        class Config:
            width = size * 2
            items = [size for _ in range(2)]

    return Config.width, Config.items


def global_and_nonlocal_mix():
    global registry
    local_count = 0

    def register(key):
        nonlocal local_count
        try:
            registry[key] = local_count
        finally:
            local_count += 1

    for key in "abc":
        register(key)
    registry = dict(sorted(registry.items(), reverse=True))
    return registry, local_count


def exception_name_unbinds():
    exc = "before"
    try:
        raise KeyError("k")
    except KeyError as exc:
        pass
    finally:
        pass
    try:
        return exc
    except UnboundLocalError as err:
        return f"exc unbound: {type(err).__name__}"


print(bump_in_with(3), bump_in_with(2), counter)
print(global_declared_in_with(), late_global)
print(global_in_finally(), from_finally)
print(nonlocal_chain())
print(first_bound_in_cell(True), first_bound_in_cell(False))
print(deletions())
print(closures_live())
print(loop_variable_capture())
print(shadow_builtin_in_cell([1, 2]))
print(class_in_function_reads_locals())
print(global_and_nonlocal_mix())
print(exception_name_unbinds())

for step in range(2):
    with contextlib.nullcontext():
        script_value = step * 10
        del counter
        counter = script_value
print(script_value, counter, "step" in globals())
