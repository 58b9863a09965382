"""Conditions over a ticket's attributes, checked against the categories that use the process.

`attribute_equals: {attribute: vehicle_type, value: truk}` compiles on its
own; only the categories say which attributes and values exist. A process
is shared by categories, so the condition is checked against every category
on it: an attribute none of them asks, or a value none of them accepts,
is a mistake (the condition could never hold).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from komunikator.engine.compiled import CompiledCategory
from komunikator.engine.config.builtins import AttributeEqualsArgs
from komunikator.engine.config.loader import Path_, Tree
from komunikator.engine.errors import ErrorList
from komunikator.engine.schema.base import yaml_value
from komunikator.engine.schema.categories import Attribute


def check_attribute_conditions(
    calls: Sequence[tuple[str, Path_, BaseModel]], categories: Mapping[str, CompiledCategory], tree: Tree,
    errors: ErrorList,
) -> None:
    """Report `attribute_equals` conditions no category on their process can satisfy."""
    on_process: dict[str, list[CompiledCategory]] = {}
    for category in categories.values():
        on_process.setdefault(category.process, []).append(category)
    for process, path, args in calls:
        users = on_process.get(process)
        if not isinstance(args, AttributeEqualsArgs) or not users:
            continue  # a process no (valid) category uses: nothing to check against
        names = ", ".join(sorted(c.name for c in users))
        having: list[tuple[str, Attribute]] = [
            (c.name, c.spec.attributes[args.attribute]) for c in users if args.attribute in c.spec.attributes
        ]
        if not having:
            asked = sorted({a for c in users for a in c.spec.attributes})
            close = difflib.get_close_matches(args.attribute, asked, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else (
                f" (they ask: {', '.join(asked)})" if asked else " (they ask none)")
            at = (*path, "attribute")
            errors.add(tree.where(at), at, f"no category on process {process!r} ({names}) has attribute "
                       f"{args.attribute!r}{hint}")
            continue
        problems = [attr.check_value(args.value) for _, attr in having]
        if all(problems):
            at = (*path, "value")
            options = sorted({str(v) for _, a in having for v in (a.values or {})})
            close = difflib.get_close_matches(str(args.value), options, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" ({problems[0]})"
            which = ", ".join(sorted(n for n, _ in having))
            errors.add(tree.where(at), at, f"attribute {args.attribute!r} of {which} never has the value "
                       f"{yaml_value(args.value)}{hint}")
