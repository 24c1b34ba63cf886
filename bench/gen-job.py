#!/usr/bin/python3
"""gen-job.py - writes a directory bundle with N atoms for the scheduling tests and the
benchmark: a spec with as many entities as N needs (each like the reference job's User,
without relationships) and a DAG shaped like the reference one (per entity: model, schema,
validation, service, five routes, a test; plus the project's shared atoms), with as
many entities as it takes to reach N atoms (whole entities: 25 atoms for one, 10 more for
each other; a project cut short of its packages, app or tests fails validation).

usage: gen-job.py DIR N [JOB.YAML-TEXT]
"""
import json
import os
import sys


def entity(k):
    return {"name": "Item%d" % k, "table": "item%ds" % k,
            "description": "Generated entity %d." % k,
            "fields": [{"name": "title", "type": "string", "required": True, "min_length": 1, "max_length": 120},
                       {"name": "count", "type": "integer", "min": 0, "max": 1000},
                       {"name": "is_active", "type": "boolean", "default": True}]}


OPS = [("list", "GET", ""), ("create", "POST", ""), ("get", "GET", "/{id}"),
       ("update", "PATCH", "/{id}"), ("delete", "DELETE", "/{id}")]


def atom(id, kind, target, deps, **kw):
    a = {"id": id, "kind": kind, "target": target, "depends_on": deps}
    a.update(kw)
    return a


def plan(n_entities):
    ents = ["item%d" % k for k in range(n_entities)]
    first = [atom("config", "config", "src/config.py", []),
             atom("database", "database", "src/database.py", ["config"]),
             atom("src_pkg", "package", "src/__init__.py", []),
             atom("errors", "app", "src/errors.py", []),
             atom("requirements", "infra", "requirements.txt", [])]
    per = []
    for k, e in enumerate(ents):
        E, t = "Item%d" % k, e + "s"
        per += [atom("model_" + e, "model", "src/models/%s.py" % e, ["database"], entity=E),
                atom("schema_" + e, "schema", "src/api/schemas/%s.py" % e, ["model_" + e], entity=E),
                atom("validation_" + e, "validation", "src/validations/%s.py" % e, ["errors", "model_" + e], entity=E),
                atom("service_" + e, "service", "src/services/%s.py" % e, ["schema_" + e, "validation_" + e], entity=E)]
        per += [atom("route_%s_%s" % (e, op), "route", "src/api/routes/%s.py" % t, ["service_" + e, "database"],
                     entity=E, operation=op) for op, _, _ in OPS]
    pk = lambda p: [x for x in per if x["kind"] == p]
    ids = lambda xs: [x["id"] for x in xs]
    rest = [atom("models_pkg", "package", "src/models/__init__.py", ids(pk("model"))),
            atom("schemas_pkg", "package", "src/api/schemas/__init__.py", ids(pk("schema"))),
            atom("validations_pkg", "package", "src/validations/__init__.py", ids(pk("validation"))),
            atom("services_pkg", "package", "src/services/__init__.py", ids(pk("service"))),
            atom("routes_pkg", "package", "src/api/routes/__init__.py", ids(pk("route"))),
            atom("api_pkg", "package", "src/api/__init__.py", ["routes_pkg", "schemas_pkg"]),
            atom("app", "app", "src/main.py", ["routes_pkg", "database", "config", "errors"]),
            atom("tests_pkg", "package", "tests/__init__.py", []),
            atom("test_conftest", "test", "tests/conftest.py", ["app", "database"])]
    rest += [atom("test_" + e + "s", "test", "tests/test_%ss.py" % e, ["app", "test_conftest"], entity="Item%d" % k)
             for k, e in enumerate(ents)]
    rest += [atom("readme", "doc", "README.md", ["app"])]
    return first + per + rest


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    e = 1
    while len(plan(e)) < n:
        e += 1
    # whole entities only: a prefix of the plan would leave modules without the packages,
    # app and tests a project needs, which validation refuses (docs/templates.md)
    atoms = plan(e)
    used = sorted({a["entity"] for a in atoms if "entity" in a}, key=lambda s: int(s[4:]))
    ents = [entity(int(s[4:])) for s in used] or [entity(0)]
    spec = {"format": 1, "name": "gen", "title": "Generated", "description": "A generated job of %d atoms." % n,
            "config": {"api_prefix": "/api", "database_url": "sqlite:///./app.db"},
            "entities": ents,
            "endpoints": [{"entity": x["name"], "operation": op, "method": m, "path": "/" + x["table"] + p}
                          for x in ents for op, m, p in OPS]}
    os.makedirs(out)
    with open(os.path.join(out, "spec.yaml"), "w") as f:
        json.dump(spec, f, indent=1)  # JSON is YAML
    with open(os.path.join(out, "dag.json"), "w") as f:
        json.dump({"format": 1, "name": "gen", "atoms": atoms}, f, indent=1)
    if len(sys.argv) > 3:
        with open(os.path.join(out, "job.yaml"), "w") as f:
            f.write(sys.argv[3])


main()
