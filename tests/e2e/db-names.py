"""db-names.py - a generated project's migration names its constraints as its models do.

Run in the project's directory (in the Debian 13 root, with its Python stack):
    python3 db-names.py MIGRATED FRESH
two database URLs: MIGRATED after `alembic upgrade head`, FRESH an empty database. The
models (the DAG's model modules) are created in FRESH with Base.metadata.create_all();
both databases are then reflected and must hold the same tables, primary keys, foreign
keys, unique constraints, indexes and CHECK constraints, by name. Every name of the
models' metadata has at most 63 bytes (PostgreSQL's limit, which `alembic check` cannot
see: PostgreSQL cuts a longer name silently, SQLite keeps it). Exit status 1 with the
differences on a mismatch. (`alembic check` compares neither CHECK constraints nor the
names of most constraints.)
"""

import importlib
import json
import sys

import sqlalchemy as sa


def module_of(target):
    mod = target[:-3].replace("/", ".")
    return mod[: -len(".__init__")] if mod.endswith(".__init__") else mod


def reflected(url):
    engine = sa.create_engine(url)
    insp = sa.inspect(engine)
    out = set()
    for t in insp.get_table_names():
        if t == "alembic_version":
            continue
        out.add(("table", t, t))
        out.add(("pk", t, insp.get_pk_constraint(t).get("name")))
        out.update(("fk", t, fk.get("name")) for fk in insp.get_foreign_keys(t))
        out.update(("uq", t, u.get("name")) for u in insp.get_unique_constraints(t))
        out.update(("ix", t, i.get("name")) for i in insp.get_indexes(t))
        out.update(("ck", t, c.get("name")) for c in insp.get_check_constraints(t))
    engine.dispose()
    return out


def main():
    migrated, fresh = sys.argv[1], sys.argv[2]
    sys.path.insert(0, ".")
    with open(".codegen/dag.json") as f:
        atoms = json.load(f)["atoms"]
    database = importlib.import_module(
        module_of(next(a["target"] for a in atoms if a["kind"] == "database"))
    )
    for a in atoms:
        if a["kind"] == "model":
            importlib.import_module(module_of(a["target"]))
    metadata = database.Base.metadata
    long = []
    for table in metadata.tables.values():
        for item in [table, *table.constraints, *table.indexes]:
            if item.name is not None and len(str(item.name).encode()) > 63:
                long.append(str(item.name))
        for column in table.columns:
            long.extend(str(c.name) for c in column.constraints if len(str(c.name).encode()) > 63)
    engine = sa.create_engine(fresh)
    metadata.create_all(engine)
    engine.dispose()
    a, b = reflected(migrated), reflected(fresh)
    ok = True
    if long:
        print("names longer than 63 bytes in the models:", sorted(long))
        ok = False
    if a != b:
        print("only in the migrated database:", sorted(a - b, key=str))
        print("only in the models' database:", sorted(b - a, key=str))
        ok = False
    if not any(kind == "ck" for kind, _, _ in a) and any(
        isinstance(c, sa.CheckConstraint) for t in metadata.tables.values() for c in t.constraints
    ):
        print("no CHECK constraint reflected")
        ok = False
    print("%d names compared" % len(a))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
