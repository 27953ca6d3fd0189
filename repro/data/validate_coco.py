"""Check a COCO-format dataset of one's own before anything trains on it: `python -m repro.data.validate_coco
--train ANN.json --train-images DIR --val ANN.json --val-images DIR`.

One pass over both splits collects every problem, each as one line (the same kind of problem in many images is
one line with a count and the first few examples), and raises them together as a `DatasetProblems`, which the
CLIs print as one `error:` line each. What is checked, per split:

- the annotation file is readable JSON holding `images`, `annotations` and `categories` lists;
- categories: at least one, each with an integer id and a non-empty name, ids and names unique, and the same
  categories (ids and names) in both splits, since the class list (the names, in the file's order) is taken from
  them and mmdet maps classes to category ids by name;
- images: unique integer ids, a `file_name`, positive integer `width` and `height`, the file present under the
  split's image folder;
- annotations: an `image_id` and a `category_id` that the file defines, a `bbox` [x, y, w, h] of numbers with
  w > 0 and h > 0, inside its image (within BOX_SLACK pixels, for rounding);
- a split with no annotated image at all is an error (nothing to train on, or nothing to evaluate against).

Images with no annotations are a *note*, not an error: COCO itself has them (about 1% of train2017), mmdet's
`filter_empty_gt` leaves them out of training, and in val they are images where every detection is a false
positive, which is what a real val split holds. The note says how many there are.
"""
from __future__ import annotations

import argparse
import json
import numbers
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from repro.errors import ReproError

BOX_SLACK = 1.0  # pixels a box may reach beyond its image (rounded float coordinates), not more
EXAMPLES = 3  # examples named in a line that counts many of the same problem


class DatasetProblems(ReproError):
    """Every problem the validation found, one line each. str() puts `error: ` before every line after the first,
    as repro.cli.run_cli prints `error: ` before the first: each problem reads as an error line of its own."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(''.join([self.problems[0], *(f'\nerror: {p}' for p in self.problems[1:])]))


@dataclass(frozen=True)
class Split:
    name: str  # 'train' or 'val'
    ann_file: Path
    images: Path


@dataclass
class Summary:
    """What a valid dataset holds: the class names (categories in file order), per split the number of images,
    of annotations and of images without any annotation; notes to print (each one line)."""
    classes: tuple[str, ...]
    images: dict[str, int] = field(default_factory=dict)
    annotations: dict[str, int] = field(default_factory=dict)
    empty: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        splits = ', '.join(f'{s} {self.images[s]} images ({self.annotations[s]} boxes)' for s in self.images)
        return f"{len(self.classes)} classes ({', '.join(self.classes)}); {splits}"


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value  # not NaN


class _Problems:
    """Problems by kind: each kind becomes one line with its count and first examples."""

    def __init__(self):
        self.lines: list[str] = []
        self._many: dict[tuple[str, str], list[str]] = defaultdict(list)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def many(self, where: str, what: str, example: str) -> None:
        self._many[(where, what)].append(example)

    def collected(self) -> list[str]:
        lines = list(self.lines)
        for (where, what), examples in self._many.items():
            shown = ', '.join(examples[:EXAMPLES]) + (', ...' if len(examples) > EXAMPLES else '')
            lines.append(f'{where}: {len(examples)} {what}: {shown}')
        return lines


def _load(split: Split, problems: _Problems) -> dict | None:
    where = f'{split.name} annotations {split.ann_file}'
    if not Path(split.images).is_dir():
        problems.add(f'{split.name} images {split.images}: no such folder')
    try:
        data = json.loads(Path(split.ann_file).read_bytes())
    except FileNotFoundError:
        problems.add(f'{where}: no such file')
        return None
    except IsADirectoryError:
        problems.add(f'{where}: a folder, not a COCO annotation file')
        return None
    except OSError as err:
        problems.add(f'{where}: cannot read it: {err.strerror or err}')
        return None
    except (ValueError, UnicodeDecodeError) as err:
        problems.add(f'{where}: not valid JSON: {str(err).splitlines()[0]}')
        return None
    if not isinstance(data, dict):
        problems.add(f'{where}: expected a JSON object with images, annotations and categories, got a '
                     f'{type(data).__name__}')
        return None
    missing = [k for k in ('images', 'annotations', 'categories') if not isinstance(data.get(k), list)]
    if missing:
        problems.add(f"{where}: no {', '.join(missing)} list{'s' if len(missing) > 1 else ''} (a COCO annotation "
                     'file holds images, annotations and categories)')
        return None
    return data


def _categories(split: Split, data: dict, problems: _Problems) -> list[tuple[int, str]] | None:
    where = f'{split.name} annotations {split.ann_file.name}'
    cats, ok = [], True
    if not data['categories']:
        problems.add(f'{where}: no categories; list each class as {{"id": 1, "name": "person"}}')
        return None
    for i, cat in enumerate(data['categories']):
        cat_id = cat.get('id') if isinstance(cat, dict) else None
        name = cat.get('name') if isinstance(cat, dict) else None
        if not _is_int(cat_id) or not isinstance(name, str) or not name.strip():
            problems.many(where, 'categories without an integer id and a non-empty name', f'#{i} {cat!r}'[:80])
            ok = False
            continue
        cats.append((cat_id, name))
    ids, names = [c for c, _ in cats], [n for _, n in cats]
    twice = sorted({str(c) for c in ids if ids.count(c) > 1})
    if twice:
        problems.add(f"{where}: category id {', '.join(twice)} given twice; ids must be unique")
        ok = False
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.add(f"{where}: category name {', '.join(repr(n) for n in twice)} given twice; classes are matched "
                     'by name, so names must be unique')
        ok = False
    return cats if ok else None


def _check_split(split: Split, data: dict, cat_ids: set[int] | None, problems: _Problems,
                 summary: Summary) -> None:
    where = f'{split.name} annotations {split.ann_file.name}'
    images_dir = Path(split.images)
    have_dir = images_dir.is_dir()
    sizes: dict[int, tuple[float, float]] = {}
    for i, image in enumerate(data['images']):
        image_id = image.get('id') if isinstance(image, dict) else None
        if not _is_int(image_id):
            problems.many(where, 'images without an integer id', f'#{i}')
            continue
        if image_id in sizes:
            problems.many(where, 'image ids given twice', str(image_id))
            continue
        name = image.get('file_name')
        width, height = image.get('width'), image.get('height')
        if not _is_int(width) or not _is_int(height) or width <= 0 or height <= 0:
            problems.many(where, 'images without a positive integer width and height', f'id {image_id}')
            sizes[image_id] = None
        else:
            sizes[image_id] = (width, height)
        if not isinstance(name, str) or not name:
            problems.many(where, 'images without a file_name', f'id {image_id}')
        elif have_dir and not (images_dir / name).is_file():
            problems.many(f'{split.name} images {images_dir}', 'image files listed in '
                          f'{split.ann_file.name} are missing', name)
    annotated: dict[int, int] = defaultdict(int)
    for i, ann in enumerate(data['annotations']):
        if not isinstance(ann, dict):
            problems.many(where, 'annotations that are not objects', f'#{i}')
            continue
        label = f"id {ann.get('id', f'#{i}')}"
        image_id, cat_id = ann.get('image_id'), ann.get('category_id')
        if image_id not in sizes:
            problems.many(where, 'annotations of an image id the file does not list', f'{label} (image {image_id!r})')
            continue
        if cat_ids is not None and cat_id not in cat_ids:
            problems.many(where, 'annotations of an unknown category id', f'{label} (category {cat_id!r})')
        box = ann.get('bbox')
        if not isinstance(box, list) or len(box) != 4 or not all(_is_number(v) for v in box):
            problems.many(where, 'annotations without a bbox [x, y, w, h] of 4 numbers', label)
            continue
        x, y, w, h = box
        if w <= 0 or h <= 0:
            problems.many(where, 'boxes with zero or negative width or height', f'{label} {box}')
            continue
        size = sizes[image_id]
        if size and (x < -BOX_SLACK or y < -BOX_SLACK or x + w > size[0] + BOX_SLACK or
                     y + h > size[1] + BOX_SLACK):
            problems.many(where, 'boxes outside their image', f'{label} {box} in {size[0]}x{size[1]}')
        if not ann.get('iscrowd'):
            annotated[image_id] += 1
    summary.images[split.name] = len(sizes)
    summary.annotations[split.name] = sum(annotated.values())
    empty = len(sizes) - len(annotated)
    summary.empty[split.name] = empty
    if sizes and not annotated:
        problems.add(f'{where}: none of its {len(sizes)} images has an annotation (iscrowd ones aside): nothing to '
                     f"{'train on' if split.name == 'train' else 'evaluate against'}")
    elif not sizes:
        problems.add(f'{where}: no images')
    elif empty:
        why = ("mmdet's filter_empty_gt leaves them out of training" if split.name == 'train'
               else 'they are evaluated as images with no objects: every detection there is a false positive')
        summary.notes.append(f'{split.name}: {empty} of {len(sizes)} images have no annotations ({why})')


def validate(train: Split, val: Split) -> Summary:
    """Check both splits in one pass; returns their Summary, or raises DatasetProblems naming every problem."""
    problems = _Problems()
    loaded = [(split, _load(split, problems)) for split in (train, val)]
    cats = {split.name: _categories(split, data, problems) for split, data in loaded if data is not None}
    if cats.get('train') and cats.get('val') and cats['train'] != cats['val']:
        only = sorted(set(cats['train']) ^ set(cats['val']))
        diff = '; '.join(f"{'train' if c in cats['train'] else 'val'} only: {c[0]} {c[1]!r}" for c in only[:4])
        problems.add(f'train and val categories differ ({diff or "same categories in another order"}): give both '
                     'splits the same categories list')
    ref = cats.get('train') or cats.get('val')
    summary = Summary(classes=tuple(name for _, name in ref or ()))
    for split, data in loaded:
        if data is not None:
            known = cats.get(split.name)  # None: its categories are refused already; not each annotation again
            _check_split(split, data, None if known is None else {c for c, _ in known}, problems, summary)
    lines = problems.collected()
    if lines:
        raise DatasetProblems(lines)
    return summary


def main(argv: list[str] | None = None) -> None:
    from repro.cli import ArgumentParser
    parser = ArgumentParser(prog='python -m repro.data.validate_coco', description=__doc__.splitlines()[0],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_args(parser)
    args = parser.parse_args(argv)
    summary = validate(*splits(args))
    for note in summary.notes:
        print(f'note: {note}')
    print(f'ok: {summary.line()}')


def add_dataset_args(parser) -> None:
    parser.add_argument('--train', required=True, metavar='ANN.json', help='COCO-format train annotations')
    parser.add_argument('--train-images', required=True, metavar='DIR', help='folder of the train images')
    parser.add_argument('--val', required=True, metavar='ANN.json', help='COCO-format val annotations')
    parser.add_argument('--val-images', required=True, metavar='DIR', help='folder of the val images')


def splits(args) -> tuple[Split, Split]:
    """The two splits named by add_dataset_args' flags, as absolute paths."""
    return (Split('train', Path(args.train).absolute(), Path(args.train_images).absolute()),
            Split('val', Path(args.val).absolute(), Path(args.val_images).absolute()))


if __name__ == '__main__':
    from repro.cli import run_cli
    run_cli(main)
