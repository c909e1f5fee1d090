"""Would anything above a crash handle it? If so, daifu must not intercept it.

The barrier sees an exception before the frames above it unwind, so it must decide from
their current state whether the program itself would handle the exception. For each frame
above the barrier (callers, vaccinated or not), from the innermost out:

* a ``try`` whose body the frame is executing handles the exception if one of its ``except``
  clauses matches (the clause's type expression is evaluated in that frame). A clause whose
  body ends with a bare ``raise`` only looks at the exception and passes it on; it does not
  count. A clause that cannot be evaluated counts as handling (daifu errs towards leaving the
  program alone);
* a ``with`` statement handles it if its manager may suppress it: ``contextlib.suppress`` of a
  matching type, a ``@contextmanager`` generator that catches it around its ``yield``, or an
  ``__exit__`` whose source can return something other than ``None``/``False``;
* a call to ``getattr`` with a default or ``hasattr`` handles ``AttributeError``.

Limits: handlers in C code (other than the calls above) are invisible; a ``with`` manager
implemented in C is assumed not to suppress; frames without source (besides the
interpreter's own start-up frames) count as handling if the interpreter's exception table
says they have a handler there (3.11+).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import dis
import linecache
import sys
import threading
from types import CodeType, FrameType, FunctionType
from typing import Any

from . import layout, registry
from .names import walk
from .protocols import PROTOCOL

_lock = threading.Lock()
_trees: dict[str, ast.Module | None] = {}
_exit_verdicts: dict[Any, bool] = {}
_CO_OPTIMIZED = 0x1
_CO_NEWLOCALS = 0x2
_IGNORED_FILES = ("<frozen runpy>", "<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
#: Managers read as suppressing by the rules below that do not: ``record_function.__exit__``
#: raises only if its own ``__enter__`` did not run (an invariant check), and the Trainer's
#: ``compute_loss_context_manager`` is an ``ExitStack`` holding only autocast (a subclass that
#: overrides it is analysed as usual). Each is named by its module and qualified name.
_KNOWN_NOT_SUPPRESSING = frozenset({
    "torch.autograd.profiler:record_function",
    "transformers.trainer:Trainer.compute_loss_context_manager",
})
_NOT_SUPPRESSING = ("builtins", "_io", "io", "_thread", "threading", "tempfile", "zipfile", "tarfile")


def handled_above(exc: BaseException, frame: FrameType) -> str | None:
    """A reason if a frame above *frame* would handle *exc*; ``None`` if nothing would."""
    current = frame.f_back
    runtime_dir = __file__.rsplit("/", 1)[0]
    while current is not None:
        filename = current.f_code.co_filename
        if not filename.startswith(runtime_dir) and filename not in _IGNORED_FILES:
            reason = _frame_handles(exc, current)
            if reason:
                return reason
            kinds = PROTOCOL.get(current.f_code.co_name)
            if kinds and isinstance(exc, kinds):
                return f"{type(exc).__name__} passes through {current.f_code.co_name}, which signals with it"
        current = current.f_back
    return None


def _frame_handles(exc: BaseException, frame: FrameType) -> str | None:
    tree = _tree_for(frame.f_code.co_filename, frame.f_globals, frame.f_code)
    where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    if tree is None:
        if _exception_table_covers(frame):
            return f"{where} has an exception handler (no source to read it)"
        return None
    scope = _scope_node(tree, frame.f_code)
    if scope is None:
        return None
    line = frame.f_lineno
    for node in reversed(_enclosing(scope, line)):
        if isinstance(node, ast.With):
            reason = _with_suppresses(exc, node, frame)
        else:
            reason = _try_handles(exc, node, frame)  # type: ignore[arg-type]
            if reason is None:
                reason = _finally_may_replace(node, scope)  # type: ignore[arg-type]
        if reason:
            return f"{where}: {reason}"
    reason = _builtin_call_handles(exc, scope, line)
    return f"{where}: {reason}" if reason else None


# -- reading source ------------------------------------------------------------------------


def _tree_for(filename: str, globals_: dict[str, Any], code: CodeType) -> ast.Module | None:
    record = registry.module_by_path(filename)
    if record is not None:
        # A frame that started before a fix runs its old code, at the old code's lines: read
        # it in the generation it was compiled from (no generation: no source to trust).
        generation = record.generation_for(code)
        return generation.tree if generation is not None else None
    with _lock:
        if filename in _trees:
            return _trees[filename]
    source = None
    if filename in registry.continuations:
        source = registry.continuations[filename].source
    else:
        lines = linecache.getlines(filename, globals_)
        source = "".join(lines) if lines else None
    tree = None
    if source:
        try:
            tree = ast.parse(source, filename)
        except (SyntaxError, ValueError, RecursionError):
            tree = None
    with _lock:
        _trees[filename] = tree
    return tree


def forget(filename: str) -> None:
    """A file's code changed: read it again next time."""
    with _lock:
        _trees.pop(filename, None)
        _scopes.clear()
        _enclosings.clear()
        _scope_indexes.clear()
        _lambda_indexes.clear()


# Exceptions the program handles pass the barriers often (a KeyError per missing key): the
# analysis of a frame position is cached per code object and line.
_scopes: dict[tuple[int, CodeType], ast.AST | None] = {}
_enclosings: dict[tuple[int, int], list[ast.AST]] = {}
_compiled: dict[int, CodeType] = {}


def _scope_node(tree: ast.Module, code: CodeType) -> ast.AST | None:
    key = (id(tree), code)
    if key not in _scopes:
        _scopes[key] = _find_scope(tree, code)
    return _scopes[key]


def _find_scope(tree: ast.Module, code: CodeType) -> ast.AST | None:
    """The def (or the module) whose body *code* is."""
    if code.co_name == "<module>" and not code.co_flags & _CO_NEWLOCALS:
        return tree  # module code (the script function, also named <module>, is a function)
    name = layout.cell_of(code) or code.co_name  # a renamed cell is found by its own name
    index = _scope_index(tree)
    found = index.get((name, code.co_firstlineno))
    if found is None:
        # A continuation's own function is renamed after the user's: without its generated
        # name, a `with`/`try` in resumed code was taken to handle nothing.
        found = index.get((layout.CONTINUATION, code.co_firstlineno))
    if found is None and code.co_name == "<lambda>":
        found = _lambda_index(tree).get(code.co_firstlineno)
    return found


#: id(tree) -> (tree, its defs and classes by (name, first line)); and its lambdas by line.
_scope_indexes: dict[int, tuple[ast.Module, dict[tuple[str, int], ast.AST]]] = {}
_lambda_indexes: dict[int, tuple[ast.Module, dict[int, ast.AST]]] = {}


def _scope_index(tree: ast.Module) -> dict[tuple[str, int], ast.AST]:
    """The module's defs and classes by (name, first line): one walk of its statements per
    module, not a walk of all its nodes per code object (a stack of frames in a module of
    thousands of functions walked it for each frame)."""
    entry = _scope_indexes.get(id(tree))
    if entry is None or entry[0] is not tree:
        defs: dict[tuple[str, int], ast.AST] = {}
        todo: list[ast.AST] = [tree]
        while todo:
            node = todo.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                defs.setdefault((node.name, first), node)
                if node.name == layout.SCRIPT:
                    defs.setdefault(("<module>", first), node)
            todo.extend(reversed(registry.statements_in(node)))
        entry = _scope_indexes[id(tree)] = (tree, defs)
    return entry[1]


def _lambda_index(tree: ast.Module) -> dict[int, ast.AST]:
    """The module's lambdas by line (the last one of a line in walk order, as before)."""
    entry = _lambda_indexes.get(id(tree))
    if entry is None or entry[0] is not tree:
        lambdas: dict[int, ast.AST] = {node.lineno: node for node in walk(tree) if isinstance(node, ast.Lambda)}
        entry = _lambda_indexes[id(tree)] = (tree, lambdas)
    return entry[1]


def _enclosing(scope: ast.AST, line: int) -> list[ast.AST]:
    key = (id(scope), line)
    found = _enclosings.get(key)
    if found is None:
        found = _enclosings[key] = _find_enclosing(scope, line)
    return found


def _find_enclosing(scope: ast.AST, line: int) -> list[ast.AST]:
    """``try`` and ``with`` statements of *scope* whose protected body contains *line*,
    outermost first (daifu's own barriers excluded)."""
    found: list[ast.AST] = []
    stack = list(_body_of(scope))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Try, ast.With, ast.AsyncWith)) or type(node).__name__ == "TryStar":
            if body and body[0].lineno <= line <= (body[-1].end_lineno or body[-1].lineno):
                if not _is_daifu_barrier(node):
                    found.append(node)
            elif getattr(node, "finalbody", None) and _in_handlers_or_else(node, line):  # type: ignore[arg-type]
                found.append(_finally_only(node))  # type: ignore[arg-type]
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.stmt, ast.ExceptHandler)) or type(child).__name__ == "match_case":
                stack.append(child)
    found.sort(key=lambda n: (n.lineno, -(n.end_lineno or 0)))  # type: ignore[attr-defined]
    return found


def _in_handlers_or_else(node: ast.Try, line: int) -> bool:
    blocks = [h.body for h in node.handlers] + [node.orelse]
    return any(b and b[0].lineno <= line <= (b[-1].end_lineno or b[-1].lineno) for b in blocks)


def _finally_only(node: ast.Try) -> ast.Try:
    """A view of *node* whose handlers do not apply (the position is past them), only its
    finally clause."""
    clone = ast.Try(body=node.body, handlers=[], orelse=[], finalbody=node.finalbody)
    return ast.copy_location(clone, node)


def _body_of(scope: ast.AST) -> list[ast.AST]:
    body = getattr(scope, "body", [])
    return body if isinstance(body, list) else []


def _is_daifu_barrier(node: ast.AST) -> bool:
    handlers = getattr(node, "handlers", [])
    return len(handlers) == 1 and handlers[0].name == layout.EXC


# -- try statements --------------------------------------------------------------------------


def _try_handles(exc: BaseException, node: ast.Try, frame: FrameType) -> str | None:
    for handler in node.handlers:
        if handler.type is None:
            matched = True
        else:
            try:
                types = _evaluate(handler.type, frame)
                matched = _matches(exc, types, star=type(node).__name__ == "TryStar")
            except Exception:
                return f"`except {ast.unparse(handler.type)}` at line {handler.lineno} (cannot evaluate it)"
        if matched:
            if _reraises(handler):
                return None  # looks at the exception and passes it on
            clause = f"except {ast.unparse(handler.type)}" if handler.type else "except"
            return f"`{clause}` at line {handler.lineno} handles it"
    return None


def _finally_may_replace(node: ast.Try, scope: ast.AST) -> str | None:
    """A ``finally`` that raises, returns, breaks or continues replaces (or swallows) the
    exception passing through it, so that exception may never crash the program. (Plain
    calls in a ``finally`` are assumed not to raise.)"""
    body = list(node.finalbody)
    cell = _scaffolding_cell(body)
    if cell is not None:  # vaccinated code: the user's finally lives in a cell
        body = _cell_body(scope, cell)
    for inner in _own(body):
        if isinstance(inner, (ast.Raise, ast.Return, ast.Break, ast.Continue)):
            return f"the finally clause at line {node.finalbody[0].lineno} may replace it (line {inner.lineno})"
    return None


def _scaffolding_cell(body: list[ast.stmt]) -> str | None:
    """``_daifu_t = __daifu__.run_finally(_daifu_t, CELL)``: the cell's name."""
    if len(body) == 1 and isinstance(body[0], ast.Assign) and isinstance(body[0].value, ast.Call):
        call = body[0].value
        if len(call.args) == 2 and isinstance(call.args[1], ast.Name) and layout.parse_cell_name(call.args[1].id):
            return call.args[1].id
    return None


def _cell_body(scope: ast.AST, name: str) -> list[ast.stmt]:
    for node in walk(scope):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            for stmt in node.body:
                if isinstance(stmt, ast.Try) and _is_daifu_barrier(stmt):
                    return list(stmt.body)
    return []


def _own(body: list[ast.stmt]) -> list[ast.AST]:
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _matches(exc: BaseException, types: Any, star: bool) -> bool:
    if not isinstance(types, tuple):
        types = (types,)
    if any(isinstance(t, type) and isinstance(exc, t) for t in types):
        return True
    return star  # except* may split a group; treat it as handling


def _reraises(handler: ast.ExceptHandler) -> bool:
    """Whether the handler always passes the exception on: it ends with a bare ``raise`` (or
    re-raises its own name) and nothing in it can leave it another way."""
    last = handler.body[-1]
    if not isinstance(last, ast.Raise) or last.cause is not None:
        return False
    if last.exc is not None and not (isinstance(last.exc, ast.Name) and last.exc.id == handler.name):
        return False
    for node in walk(ast.Module(body=handler.body[:-1], type_ignores=[])):
        if isinstance(node, (ast.Return, ast.Break, ast.Continue, ast.Try)) or type(node).__name__ == "TryStar":
            return False
    return True


_SAFE_NODES = (ast.Name, ast.Attribute, ast.Tuple, ast.Load, ast.Constant)


def _evaluate(expr: ast.expr, frame: FrameType) -> Any:
    """Evaluate a side-effect-free expression (names, attributes, tuples) in *frame*."""
    return _evaluate_in(expr, _names_for([expr], frame))


def _names_for(exprs: list[ast.expr], frame: FrameType) -> Names:
    """The namespaces to evaluate *exprs* in. A function frame's ``f_locals`` is read only if
    they name one of its variables: before Python 3.13, reading it stores a snapshot of all the
    frame's variables on the frame, which keeps them alive after the program drops them (a
    handled exception must not keep last step's tensors)."""
    code = frame.f_code
    if not code.co_flags & _CO_OPTIMIZED:  # module or class body: f_locals is the namespace
        return frame.f_globals, dict(frame.f_locals)
    variables = {*code.co_varnames, *code.co_cellvars, *code.co_freevars}
    for expr in exprs:
        if any(isinstance(n, ast.Name) and n.id in variables for n in walk(expr)):
            return frame.f_globals, dict(frame.f_locals)
    return frame.f_globals, {}


# -- with statements -------------------------------------------------------------------------


def _with_suppresses(exc: BaseException, node: ast.With, frame: FrameType) -> str | None:
    targets = [item.optional_vars for item in node.items if isinstance(item.optional_vars, ast.Name)]
    names = _names_for([*(item.context_expr for item in node.items), *targets], frame)
    for item in reversed(node.items):
        expr = item.context_expr
        try:
            verdict = _manager_verdict(exc, expr, names)
            if verdict and isinstance(item.optional_vars, ast.Name):
                verdict = _entered_verdict(exc, item.optional_vars, names, verdict)
        except Exception:
            verdict = "may suppress it (its manager cannot be analysed)"
        if verdict:
            return f"`with {ast.unparse(expr)}` at line {node.lineno} {verdict}"
    return None


Names = tuple[dict[str, Any], dict[str, Any]]


def _manager_verdict(exc: BaseException, expr: ast.expr, names: Names, depth: int = 0) -> str | None:
    """Why the manager *expr* builds (evaluated in *names*) may suppress *exc*; ``None``
    when it does not. A manager daifu cannot analyse counts as suppressing."""
    if isinstance(expr, (ast.IfExp, ast.BoolOp)):
        # `with model.no_sync() if accumulating else nullcontext():` (DDP's gradient
        # accumulation), `with ctx or nullcontext():`: the manager entered is one of the
        # branches, and which one is not known now (the test may have changed since), so
        # each must not suppress. The test itself is not evaluated (it may call anything).
        branches = [expr.body, expr.orelse] if isinstance(expr, ast.IfExp) else expr.values
        for branch in branches:
            verdict = _manager_verdict(exc, branch, names, depth)
            if verdict:
                return verdict
        return None
    if isinstance(expr, ast.Subscript):
        # `with contexts[i]:` over a list, tuple or dict: the index may have changed since the
        # manager was entered, so every element must not suppress. Other containers'
        # `__getitem__` may run code: not called.
        container = _evaluate_in(expr.value, names)
        if type(container) not in (list, tuple, dict):
            raise ValueError("not a list, tuple or dict")
        for element in container.values() if type(container) is dict else container:
            verdict = _instance_verdict(exc, element)
            if verdict:
                return f"{verdict} (an element of {ast.unparse(expr.value)})"
        return None
    if isinstance(expr, ast.Call):
        func = _evaluate_in(expr.func, names)
        if func is contextlib.suppress:
            types = tuple(_evaluate_in(a, names) for a in expr.args)
            return "suppresses it" if isinstance(exc, types) else None
        return _factory_verdict(exc, func, depth)
    return _instance_verdict(exc, _evaluate_in(expr, names))


def _entered_verdict(exc: BaseException, target: ast.Name, names: Names, verdict: str) -> str | None:
    """A second look through the ``as`` target, where the class alone may suppress: an
    ``ExitStack`` (``with ExitStack() as stack:``, its ``__enter__`` returns itself) suppresses
    only through what was pushed on it, which is known now."""
    local, scope = names[1], names[0]
    if target.id not in local and target.id not in scope:
        return verdict
    stack = local[target.id] if target.id in local else scope[target.id]  # a Store name: looked up, not compiled
    kind = type(stack)
    if not isinstance(stack, contextlib.ExitStack) or kind.__exit__ is not contextlib.ExitStack.__exit__:
        return verdict
    for _is_sync, callback in list(stack._exit_callbacks):  # type: ignore[attr-defined]
        manager = getattr(callback, "__self__", None)
        if manager is not None and getattr(callback, "__name__", "") == "__exit__":  # enter_context(cm)
            found = _instance_verdict(exc, manager)
            if found:
                return f"may suppress it (a manager on its ExitStack {found})"
        elif getattr(callback, "__name__", "") != "_exit_wrapper" or getattr(callback, "__wrapped__", None) is None:
            return "may suppress it (a function pushed on its ExitStack)"
        # else stack.callback(f): its wrapper returns None
    return None


def _instance_verdict(exc: BaseException, manager: Any) -> str | None:
    """Why the entered manager *manager* may suppress *exc*, or ``None``."""
    if isinstance(manager, contextlib.suppress):
        return "suppresses it" if isinstance(exc, manager._exceptions) else None  # type: ignore[attr-defined]
    generator = getattr(manager, "gen", None)
    if isinstance(manager, contextlib.AbstractContextManager) and generator is not None:
        gen_frame = getattr(generator, "gi_frame", None)
        if gen_frame is not None:
            reason = _frame_handles(exc, gen_frame)
            return f"may suppress it ({reason})" if reason else None
    return "may suppress or replace it (its __exit__ can return true or raise)" if _exit_may_suppress(type(manager)) else None


def _factory_verdict(exc: BaseException, func: Any, depth: int) -> str | None:
    """The verdict for ``with func(...)``: a class, a @contextmanager, or a function that
    returns a manager (followed through its return statements)."""
    function = getattr(func, "__func__", func)
    if f"{getattr(function, '__module__', '')}:{getattr(function, '__qualname__', '')}" in _KNOWN_NOT_SUPPRESSING:
        return None
    if isinstance(func, type):
        return "may suppress or replace it (its __exit__ can return true or raise)" if _exit_may_suppress(func) else None
    wrapped = getattr(func, "__wrapped__", None)
    if wrapped is not None and _is_generator_function(wrapped):
        # A bound @contextmanager method (Lightning's `self.precision_plugin.train_step_context()`):
        # its generator's `self` is known, so the managers it enters around `yield` can be read.
        return "may suppress it (its @contextmanager catches around `yield`)" if _catches_around_yield(
            exc, getattr(wrapped, "__func__", wrapped), getattr(func, "__self__", None)
        ) else None
    code = getattr(function, "__code__", None)
    if code is None:
        return None  # implemented in C (open, threading.Lock): such managers do not suppress
    if depth >= 3:
        return "may suppress it (cannot follow its factory further)"
    tree = _tree_for(code.co_filename, function.__globals__, code)
    scope = _scope_node(tree, code) if tree else None
    if scope is None:
        return "may suppress it (no source for its factory)"
    returns = [n for n in walk(scope) if isinstance(n, ast.Return)]
    if not returns:
        return "may suppress it (its factory returns nothing readable)"
    # A bound method (torch's `no_grad()` decorator calls `self.clone`, which returns
    # `self.__class__()`): its first parameter is known.
    bound_to = getattr(func, "__self__", None)
    names: Names = (function.__globals__, {code.co_varnames[0]: bound_to} if bound_to is not None and code.co_argcount else {})
    for node in returns:
        if node.value is None:
            return "may suppress it (its factory returns None)"
        try:
            verdict = _manager_verdict(exc, node.value, names, depth + 1)
        except Exception:
            return "may suppress it (its factory returns a manager daifu cannot analyse)"
        if verdict:
            return verdict
    return None


def _is_generator_function(function: Any) -> bool:
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    return code is not None and bool(code.co_flags & 0x20)  # CO_GENERATOR


def _evaluate_in(expr: ast.expr, names: Names) -> Any:
    return eval(_compiled_expression(expr), names[0], names[1])


def _compiled_expression(expr: ast.expr) -> CodeType:
    """*expr* compiled once; only names, attributes, tuples and constants (no calls)."""
    code = _compiled.get(id(expr))
    if code is None:
        if not all(isinstance(n, _SAFE_NODES) for n in walk(expr)):
            raise ValueError("not a plain name")
        code = _compiled[id(expr)] = compile(ast.Expression(expr), "<daifu>", "eval")
    return code


def _catches_around_yield(exc: BaseException, function: FunctionType, bound_to: Any = None) -> bool:
    """Whether a @contextmanager generator handles *exc* thrown in at its ``yield``: by an
    ``except`` clause or a suppressing ``with`` around it. *bound_to* is the object a bound
    method's first parameter names."""
    code = function.__code__
    tree = _tree_for(code.co_filename, function.__globals__, code)
    scope = _scope_node(tree, code) if tree else None
    if scope is None:
        return True
    names: Names = (function.__globals__, {code.co_varnames[0]: bound_to} if bound_to is not None and code.co_argcount else {})
    for node in walk(scope):
        if not isinstance(node, (ast.Yield, ast.YieldFrom)):
            continue
        for enclosing in _enclosing(scope, node.lineno):
            if isinstance(enclosing, ast.With):
                for item in enclosing.items:
                    try:
                        if _manager_verdict(exc, item.context_expr, names, 1):
                            return True
                    except Exception:
                        return True
                continue
            for handler in getattr(enclosing, "handlers", []):
                if _reraises(handler):
                    continue
                if handler.type is None:
                    return True
                try:
                    types = _evaluate_in(handler.type, names)
                except Exception:
                    return True
                if _matches(exc, types, star=False):
                    return True
    return False


def _exit_may_suppress(cls: type) -> bool:
    if f"{cls.__module__}:{cls.__qualname__}" in _KNOWN_NOT_SUPPRESSING:
        return False
    exit_ = getattr(cls, "__exit__", None)
    if exit_ is None:
        return False
    with _lock:
        if exit_ in _exit_verdicts:
            return _exit_verdicts[exit_]
    verdict = _returns_true(exit_)
    with _lock:
        _exit_verdicts[exit_] = verdict
    return verdict


def _returns_true(exit_: Any) -> bool:
    """Whether an ``__exit__`` may suppress (return true) or replace (raise) the exception."""
    function = getattr(exit_, "__func__", exit_)
    code = getattr(function, "__code__", None)
    if code is None:  # implemented in C
        return False
    tree = _tree_for(code.co_filename, getattr(function, "__globals__", {}), code)
    scope = _scope_node(tree, code) if tree else None
    if scope is None:
        return True
    for node in walk(scope):
        if isinstance(node, ast.Raise):
            return True  # an __exit__ that raises replaces the exception, like a finally
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if _is_resume_call(value):
                continue  # `return _daifu_k()` of a vaccinated __exit__'s own barrier
            if isinstance(value, ast.Tuple) and len(value.elts) == 1:
                value = value.elts[0]  # `return ((x),)`: a cell's return signal
            if isinstance(value, ast.Constant) and value.value in (None, False):
                continue
            return True
    return False


def _is_resume_call(value: ast.expr) -> bool:
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == layout.RESUME
    )


# -- calls and frames without source -----------------------------------------------------------


def _block_covers(frame: FrameType) -> bool:
    """3.9/3.10: a SETUP_FINALLY/SETUP_WITH block whose handler follows the current
    instruction covers it (the protected body sits between the setup and its handler)."""
    offset = frame.f_lasti
    for instruction in dis.get_instructions(frame.f_code):
        if instruction.opname in ("SETUP_FINALLY", "SETUP_WITH", "SETUP_ASYNC_WITH"):
            target = instruction.argval
            if isinstance(target, int) and instruction.offset < offset < target:
                return True
    return False


def _builtin_call_handles(exc: BaseException, scope: ast.AST, line: int) -> str | None:
    if not isinstance(exc, AttributeError):
        return None
    for node in walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.lineno <= line <= (node.end_lineno or line):
            if node.func.id == "hasattr" and getattr(builtins, "hasattr", None):
                return "hasattr() turns AttributeError into False"
            if node.func.id == "getattr" and len(node.args) >= 3:
                return "getattr() with a default handles AttributeError"
    return None


def _exception_table_covers(frame: FrameType) -> bool:
    """Whether the code of a frame without source has a handler around its current
    instruction (any handler counts: it may catch the exception)."""
    if sys.version_info < (3, 11):
        return _block_covers(frame)
    try:
        entries = dis._parse_exception_table(frame.f_code)  # type: ignore[attr-defined]
    except Exception:
        return False
    offset = frame.f_lasti
    return any(e.start <= offset < e.end and not e.lasti for e in entries)
