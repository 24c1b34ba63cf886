#!/usr/bin/python3
"""dag-shapes.py - rewrites the planner's dag.json into the other DAG shapes a user may draw.

Usage: dag-shapes.py SHAPE PLANNED_DAG.json SPEC.yaml OUT_DAG.json

The pattern backend must follow any layout the DAG's targets describe; these shapes are
what tests/e2e/pattern-python.sh generates every test spec with:

  entity  the seed's granularity: one route atom per entity (no operation) writing the
          whole router, modules named after the lowercased entity (src/models/orderitem.py)
  flat    a flat package app/: all models in app/models.py, all schemas in
          app/schemas.py, all validations in app/validations.py, one router module per
          entity (per-endpoint atoms), services in app/services/, Alembic in alembic/
          with alembic.ini at the project root
  mixed   a package named after the project: per-entity route atoms for every other
          entity and per-endpoint atoms for the rest, all schemas in one module, tests
          in tests/api/

Atom ids, kinds, entities, operations and dependencies keep their meaning; only targets
change, and the route atoms of an entity are merged into one where the shape asks for it.
"""
import json
import re
import sys

import yaml


def snake(name):
    return re.sub(r'(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])', '_', name).lower()


def plural(s):
    if re.search('[^aeiou]y$', s):
        return s[:-1] + 'ies'
    if re.search('(s|x|z|ch|sh)$', s):
        return s + 'es'
    return s + 's'


def merge_routes(atoms, entities):
    """Replaces the per-endpoint route atoms of the given entities by one atom each."""
    out, merged = [], {}
    for a in atoms:
        if a['kind'] == 'route' and a.get('entity') in entities:
            e = a['entity']
            if e not in merged:
                m = dict(a)
                m['id'] = 'routes_' + snake(e)
                m.pop('operation', None)
                m['description'] = '%s endpoints' % e
                m['depends_on'] = []
                merged[e] = m
                out.append(m)
            for d in a.get('depends_on', []):
                if d not in merged[e]['depends_on']:
                    merged[e]['depends_on'].append(d)
        else:
            out.append(a)
    # dependencies on removed route atoms now point at the merged one
    rename = {}
    for a in atoms:
        if a['kind'] == 'route' and a.get('entity') in merged:
            rename[a['id']] = merged[a['entity']]['id']
    for a in out:
        deps = []
        for d in a.get('depends_on', []):
            d = rename.get(d, d)
            if d != a['id'] and d not in deps:
                deps.append(d)
        a['depends_on'] = deps
    return out


def retarget(atoms, fn):
    for a in atoms:
        t = fn(a)
        if t:
            a['target'] = t


def add_package(atoms, ident, target, deps=()):
    if not any(a['target'] == target for a in atoms):
        atoms.append({'id': ident, 'kind': 'package', 'target': target, 'depends_on': list(deps),
                      'description': 'package ' + target})


def drop_packages(atoms):
    """Removes the planner's package atoms (each shape adds its own)."""
    return [a for a in atoms if a['kind'] != 'package']


def fix_deps(atoms):
    ids = {a['id'] for a in atoms}
    for a in atoms:
        a['depends_on'] = [d for d in a.get('depends_on', []) if d in ids]


def shape_entity(atoms, spec):
    ents = [e['name'] for e in spec['entities']]
    atoms = merge_routes(atoms, set(ents))

    def t(a):
        e = a.get('entity')
        low = e.lower() if e else None
        k = a['kind']
        if k in ('model', 'service', 'validation') and e:
            return 'src/%ss/%s.py' % (k, low)
        if k == 'schema' and e:
            return 'src/api/schemas/%s.py' % low
        if k == 'route' and e:
            return 'src/api/routes/%s.py' % low
        return None
    retarget(atoms, t)
    return atoms


def shape_flat(atoms, spec):
    def t(a):
        e, k, tg = a.get('entity'), a['kind'], a['target']
        if k == 'model':
            return 'app/models.py'
        if k == 'schema':
            return 'app/schemas.py'
        if k == 'validation':
            return 'app/validations.py'
        if k == 'service' and e:
            return 'app/services/%s.py' % snake(e)
        if k == 'route' and e:
            return 'app/routers/%s.py' % snake(e)
        if tg.startswith('src/') and tg.endswith('.py'):
            return 'app/' + tg.split('/')[-1]
        if k == 'migration':
            if tg.endswith('alembic.ini'):
                return 'alembic.ini'
            return 'alembic/' + tg.split('/', 1)[1]
        return None
    atoms = drop_packages(atoms)
    retarget(atoms, t)
    add_package(atoms, 'pkg_app', 'app/__init__.py')
    add_package(atoms, 'pkg_services', 'app/services/__init__.py')
    add_package(atoms, 'pkg_routers', 'app/routers/__init__.py')
    add_package(atoms, 'pkg_tests', 'tests/__init__.py')
    return atoms


def shape_mixed(atoms, spec):
    name = spec['name']
    ents = [e['name'] for e in spec['entities']]
    atoms = merge_routes(atoms, set(ents[::2]))

    def t(a):
        e, k, tg = a.get('entity'), a['kind'], a['target']
        if k == 'model' and e:
            return '%s/db/%s.py' % (name, snake(e))
        if k == 'schema':
            return '%s/schemas.py' % name
        if k == 'validation' and e:
            return '%s/rules/%s.py' % (name, snake(e))
        if k == 'service' and e:
            return '%s/services/%s_service.py' % (name, snake(e))
        if k == 'route' and e:
            ent = next(x for x in spec['entities'] if x['name'] == e)
            return '%s/api/%s.py' % (name, ent.get('table') or plural(snake(e)))
        if tg.startswith('src/') and tg.endswith('.py'):
            return '%s/%s' % (name, 'app.py' if tg == 'src/main.py' else tg.split('/')[-1])
        if tg.startswith('tests/') and tg.endswith('.py') and tg != 'tests/conftest.py':
            return 'tests/api/' + tg.split('/')[-1] if a.get('entity') else None
        return None
    atoms = drop_packages(atoms)
    retarget(atoms, t)
    for sub in ('', '/db', '/rules', '/services', '/api'):
        add_package(atoms, 'pkg_%s' % (sub.strip('/') or 'root'), '%s%s/__init__.py' % (name, sub))
    add_package(atoms, 'pkg_tests', 'tests/__init__.py')
    add_package(atoms, 'pkg_tests_api', 'tests/api/__init__.py')
    return atoms


def main():
    shape, planned, spec_file, out = sys.argv[1:5]
    dag = json.load(open(planned))
    spec = yaml.safe_load(open(spec_file))
    atoms = [dict(a) for a in dag['atoms']]
    atoms = {'planner': lambda a, s: a, 'entity': shape_entity, 'flat': shape_flat,
             'mixed': shape_mixed}[shape](atoms, spec)
    fix_deps(atoms)
    keep = ('id', 'kind', 'target', 'entity', 'operation', 'depends_on', 'description')
    atoms = [{k: a[k] for k in keep if a.get(k) is not None} for a in atoms]
    json.dump({'format': 1, 'name': dag.get('name', spec['name']), 'atoms': atoms},
              open(out, 'w'), indent=1)


if __name__ == '__main__':
    main()
