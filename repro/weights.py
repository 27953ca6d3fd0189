"""What a table's coco-profile runs load, and fetching what is missing: `python -m repro.weights list|fetch TABLE`.

How a checkpoint reference resolves to a file is repro/training/weights.py.
"""
from __future__ import annotations

from repro.cli import ArgumentParser, run_cli
from repro.errors import ReproError
from repro.plan.dag import plan
from repro.tables.spec import check_configs, resolve as resolve_table
from repro.training.weights import WEIGHTS_ENV, local_file, needed, resolve, source_url, weights_dir


def table_needs(table: str, data_root: str | None = None) -> dict[str, tuple[set[str], set[str]]]:
    """{reference: (how it is used, the runs that load it)} for every checkpoint of a table's coco-profile runs."""
    spec, _ = resolve_table(table)
    check_configs(spec)
    found: dict[str, tuple[set[str], set[str]]] = {}
    for run in plan(spec, 'coco', data_root=data_root, check_data=False):
        for what, ref in needed(run.compiled):
            whats, runs = found.setdefault(ref, (set(), set()))
            whats.add(what)
            runs.add(run.name)
    return found


def main(argv=None) -> None:
    parser = ArgumentParser(prog='python -m repro.weights', description=__doc__.splitlines()[0])
    parser.add_argument('action', choices=('list', 'fetch'), help='list: what is there and what is missing; '
                        'fetch: download what is missing into the weights folder')
    parser.add_argument('table', help='a table id (crosskd:table5, pgd:table1, ...), as repro.run takes it')
    parser.add_argument('--data-root', help='as repro.run takes it (only where the runs read their data)')
    args = parser.parse_args(argv)
    needs = table_needs(args.table, args.data_root)
    folder = weights_dir()
    print(f'{args.table}: {len(needs)} checkpoints for the coco profile; weights folder {folder} (${WEIGHTS_ENV})')
    missing = []
    for ref, (whats, runs) in sorted(needs.items(), key=lambda item: (sorted(item[1][0]), item[0])):
        path = local_file(ref)
        missing += [] if path.is_file() else [ref]
        url = source_url(ref)
        print(f"  {'ok     ' if path.is_file() else 'MISSING'}  {path.name}  {'/'.join(sorted(whats))}: "
              f"{', '.join(sorted(runs))}")
        print(f"           {ref if url in (None, ref) else f'{ref} = {url}'}")
    if args.action == 'list':
        if missing:
            print(f'{len(missing)} missing: python -m repro.weights fetch {args.table} downloads them into {folder}, '
                  'or copy them there')
        return
    local = [ref for ref in missing if source_url(ref) is None]
    if local:
        raise ReproError(f"{', '.join(local)}: local paths that do not exist; no URL to fetch them from")
    for ref in missing:
        print(f'fetching {local_file(ref).name} from {source_url(ref)}')
        resolve(ref)
    print(f'{len(missing)} fetched, {len(needs) - len(missing)} were there')


if __name__ == '__main__':
    run_cli(main)

