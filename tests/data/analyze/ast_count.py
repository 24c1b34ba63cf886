#!/usr/bin/python3
"""Independent counts for test-analyze: the figures of docs/metrics.md computed with
Python's own parser (ast) and compile(), to compare with what codegend measures.

Usage: ast_count.py FILE...   one block of "key value" lines per file
       ast_count.py --tree DIR  project totals ("files.python 12", "loc.models 80", ...)
Files that do not compile count as syntax errors and contribute no quality figures.
"""
import ast
import os
import sys

ROUTE_METHODS = {"get", "post", "put", "patch", "delete"}
SKIP_DIRS = {".git", ".hg", ".svn", ".codegen", "__pycache__", ".venv", "venv",
             "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox"}


def names(node, name):
    """`name` or `<anything>.name`."""
    return (isinstance(node, ast.Name) and node.id == name) or \
        (isinstance(node, ast.Attribute) and node.attr == name)


def has_docstring(body):
    return bool(body) and isinstance(body[0], ast.Expr) and \
        isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)


def fully_annotated(fn, method):
    a = fn.args
    positional = a.posonlyargs + a.args
    params = list(positional) + list(a.kwonlyargs)
    if a.vararg:
        params.append(a.vararg)
    if a.kwarg:
        params.append(a.kwarg)
    for i, p in enumerate(params):
        if p.annotation is not None:
            continue
        if method and positional and p is positional[0] and p.arg in ("self", "cls"):
            continue
        return False
    return fn.returns is not None


class Counter(ast.NodeVisitor):
    def __init__(self):
        self.c = dict(functions=0, annotated=0, doc_candidates=0, docstrings=0,
                      try_blocks=0, raises=0, http_exceptions=0, exception_handlers=0)
        self.orm = []
        self.routes = []       # (method, object name or None, path)
        self.prefixes = {}
        self.scopes = ["module"]

    def candidate(self, body):
        self.c["doc_candidates"] += 1
        self.c["docstrings"] += has_docstring(body)

    def visit_Module(self, node):
        if node.body:
            self.candidate(node.body)
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        self.c["functions"] += 1
        self.c["annotated"] += fully_annotated(node, self.scopes[-1] == "class")
        self.candidate(node.body)
        for d in node.decorator_list:
            self.decorator(d)
        self.scopes.append("function")
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self.scopes.append("lambda")
        self.generic_visit(node)
        self.scopes.pop()

    def visit_ClassDef(self, node):
        self.candidate(node.body)
        if any(names(b, "Base") for b in node.bases):
            self.orm.append(node.name)
        for d in node.decorator_list:
            self.decorator(d)
        self.scopes.append("class")
        self.generic_visit(node)
        self.scopes.pop()

    def visit_Try(self, node):
        self.c["try_blocks"] += 1
        self.generic_visit(node)

    visit_TryStar = visit_Try

    def visit_Raise(self, node):
        self.c["raises"] += 1
        if node.exc is not None and names(node.exc, "HTTPException"):
            self.c["http_exceptions"] += 1
        self.generic_visit(node)

    def visit_Call(self, node):
        if names(node.func, "HTTPException"):
            self.c["http_exceptions"] += 1
        elif names(node.func, "add_exception_handler") or names(node.func, "exception_handler"):
            self.c["exception_handlers"] += 1
        self.generic_visit(node)

    def assignment(self, target, value):
        if not (isinstance(target, ast.Name) and isinstance(value, ast.Call)
                and names(value.func, "APIRouter")):
            return
        for kw in value.keywords:
            if kw.arg == "prefix" and isinstance(kw.value, ast.Constant) and \
                    isinstance(kw.value.value, str):
                self.prefixes[target.id] = kw.value.value

    def visit_Assign(self, node):
        if len(node.targets) == 1:
            self.assignment(node.targets[0], node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.assignment(node.target, node.value)
        self.generic_visit(node)

    def decorator(self, d):
        if not (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                and d.func.attr in ROUTE_METHODS):
            return
        path = None
        if d.args:
            a = d.args[0]
            if isinstance(a, ast.Constant) and isinstance(a.value, str):
                path = a.value
        else:
            for kw in d.keywords:
                if kw.arg == "path" and isinstance(kw.value, ast.Constant) and \
                        isinstance(kw.value.value, str):
                    path = kw.value.value
        if path is None:
            return
        obj = d.func.value.id if isinstance(d.func.value, ast.Name) else None
        self.routes.append((d.func.attr.upper(), obj, path))


def join(prefix, path):
    prefix = prefix.rstrip("/")
    if path in ("", "/"):
        return prefix or "/"
    return prefix + ("" if path.startswith("/") else "/") + path


def count_source(src):
    """The counters of one file, or None when it does not compile."""
    try:
        compile(src, "<src>", "exec")
        tree = ast.parse(src)
    except (SyntaxError, ValueError):
        return None
    v = Counter()
    v.visit(tree)
    routes = [(m, join(v.prefixes.get(o, "") if o else "", p)) for m, o, p in v.routes]
    return v.c, v.orm, routes


def file_class(rel):
    base = os.path.basename(rel)
    low = rel.lower()
    if base == "alembic.ini" or (rel.startswith("migrations/") and low.endswith(".py")):
        return "migration"
    if low.endswith(".py"):
        return "python"
    if low.endswith(".md"):
        return "markdown"
    if base.startswith("Dockerfile") or base.startswith(".env") or \
            base in (".gitignore", ".dockerignore"):
        return "config"
    if os.path.splitext(base.lower())[1] in (".yml", ".yaml", ".toml", ".ini", ".cfg", ".txt"):
        return "config"
    return "other"


def loc_category(rel):
    for prefix, cat in (("src/models/", "models"), ("src/api/routes/", "routes"),
                        ("src/api/schemas/", "schemas"), ("src/validations/", "validations"),
                        ("tests/", "tests"), ("migrations/", "migrations")):
        if rel.startswith(prefix):
            return cat
    return "migrations" if os.path.basename(rel) == "alembic.ini" else "other"


def loc(data):
    return sum(1 for line in data.split(b"\n") if line.strip(b" \t\r\f\v"))


def tree(root):
    out = {"files.total": 0, "loc.total": 0, "syntax.files_with_errors": 0,
           "handling.modules": 0, "handling.missing": 0, "handling.missing_routes": 0}
    for k in ("python", "migration", "config", "markdown", "other"):
        out["files." + k] = 0
    for k in ("models", "routes", "schemas", "validations", "tests", "migrations", "other"):
        out["loc." + k] = 0
    totals = dict(functions=0, annotated=0, doc_candidates=0, docstrings=0,
                  try_blocks=0, raises=0, http_exceptions=0, exception_handlers=0)
    orm, routes = set(), set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames
                       if d not in SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d))]
        for f in filenames:
            full = os.path.join(dirpath, f)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            rel = os.path.relpath(full, root)
            data = open(full, "rb").read()
            out["files.total"] += 1
            out["files." + file_class(rel)] += 1
            python = rel.lower().endswith(".py")
            n = 0 if (not python and b"\0" in data) else loc(data)
            out["loc.total"] += n
            out["loc." + loc_category(rel)] += n
            if not python:
                continue
            try:
                res = count_source(data.decode("utf-8"))
            except UnicodeDecodeError:
                res = None
            if res is None:
                out["syntax.files_with_errors"] += 1
                continue
            c, o, r = res
            for k in totals:
                totals[k] += c[k]
            orm.update(o)
            routes.update(r)
            if (rel.startswith("src/api/routes/") or rel.startswith("src/services/")) \
                    and c["functions"] > 0:
                out["handling.modules"] += 1
                none = c["try_blocks"] + c["raises"] + c["http_exceptions"] == 0
                if rel.startswith("src/api/routes/"):
                    out["handling.missing_routes"] += none
                else:
                    out["handling.missing"] += none
    out.update(totals)
    out["orm_classes"] = len(orm)
    out["routes"] = len(routes)
    for k, v in out.items():
        print(k, int(v))
    for m, p in sorted(routes):
        print("route", m, p)


def main(argv):
    if len(argv) == 3 and argv[1] == "--tree":
        tree(argv[2])
        return 0
    for path in argv[1:]:
        res = count_source(open(path, encoding="utf-8").read())
        print("file", path)
        if res is None:
            print("compiles 0")
            continue
        c, orm, routes = res
        print("compiles 1")
        for k, v in c.items():
            print(k, v)
        print("orm_classes", len(orm), *orm)
        for m, p in routes:
            print("route", m, p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
