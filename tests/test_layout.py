"""The package layout (README, "Layout"): no import circles between repro's modules, counting the imports made
inside functions too, and no module at the top of repro/ but the entry points, cli.py, errors.py and profiles.py."""
import ast

from conftest import REPO

ENTRY_POINTS = {'run', 'train', 'sweep', 'compare', 'export', 'weights', 'smoke', 'demo'}
TOP = ENTRY_POINTS | {'__init__', 'cli', 'errors', 'profiles'}


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in (REPO / 'repro').rglob('*.py'):
        parts = path.relative_to(REPO).with_suffix('').parts
        name = '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)
        found[name] = (ast.parse(path.read_text()), path.name == '__init__.py')
    return found


def imports(name: str, tree: ast.Module, is_package: bool, known: set[str]) -> set[str]:
    """The repro modules `name` imports anywhere in its body: `from a.b import c` is a.b.c when that is a module."""
    def owner(dotted: str) -> str:
        while dotted and dotted not in known:
            dotted = dotted.rpartition('.')[0]
        return dotted
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                package = name if is_package else name.rpartition('.')[0]
                for _ in range(node.level - 1):
                    package = package.rpartition('.')[0]
                base = f'{package}.{base}'.rstrip('.')
            if base.startswith('repro'):
                found |= {f'{base}.{a.name}' if f'{base}.{a.name}' in known else owner(base) for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {owner(a.name) for a in node.names if a.name.startswith('repro')}
    return found - {name, ''}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))
    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    found = modules()
    graph = {name: imports(name, tree, pkg, set(found)) for name, (tree, pkg) in found.items()}
    assert graph['repro.runs.lifecycle'] >= {'repro.training.runner', 'repro.runs.store'}  # the parser sees imports
    assert cycles(graph) == []


def test_a_circle_is_found():
    assert cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [['a', 'b', 'c']]


def test_only_entry_points_sit_at_the_top():
    top = {path.stem for path in (REPO / 'repro').glob('*.py')}
    assert top - TOP == set()
    assert {path.name for path in (REPO / 'repro').iterdir() if path.is_dir() and path.name != '__pycache__'} == {
        'tables', 'plan', 'runs', 'training', 'report', 'distill', 'data', 'evaluation'}
