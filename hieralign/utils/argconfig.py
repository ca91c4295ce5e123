"""The one dataclass -> argparse generator of the training commands.

Each field becomes `--field-name` (plus aliases, e.g. the seed's `--data-dir`); its help is
the field's trailing comment, so `--help` and the dataclass never disagree, and every flag
shows its default. Booleans get `--x / --no-x`.

Kept hand-written after trying tyro 1.0, simple-parsing 0.1 and jsonargparse (docs/ARCHITECTURE.md
has the table). tyro does read comments as help, show defaults and take aliases, but aliases,
defaults and required-ness live in each field's annotation, while here one `EngineConfig` serves
`train char` and `train line` with different seed aliases, defaults and required flags; tyro (and
simple-parsing, jsonargparse) also build their own parser, not flags inside the argparse
subcommand tree that `hieralign` dispatches and whose errors end in one line + exit 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import types
import typing
from typing import Any


def field_help(cls: type) -> dict[str, str]:
    """Each field's trailing `# comment` (from the class source, through its bases)."""
    helps: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        found = re.findall(r"^\s+(\w+): [^=\n]+=.*?#\s*(.+)$", inspect.getsource(klass), flags=re.M)
        helps.update({name: text.replace("%", "%%") for name, text in found})
    return helps


def _scalar_type(annotation: Any, default: Any) -> type:
    hints = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else ()
    for hint in hints:
        if hint is not type(None):
            return hint
    return type(default) if default is not None else str


def _field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the module docstring's layout and appends every flag's default."""


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type, aliases: dict[str, list[str]] | None = None,
                            defaults: dict[str, Any] | None = None, required: tuple[str, ...] = (),
                            skip: tuple[str, ...] = ()) -> list[str]:
    """Add one flag per field of dataclass `cls`; returns the field names added."""
    aliases, defaults = aliases or {}, defaults or {}
    helps, hints = field_help(cls), typing.get_type_hints(cls)
    names = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        default = defaults.get(f.name, _field_default(f))
        flags = ["--" + f.name.replace("_", "-"), *aliases.get(f.name, [])]
        kwargs: dict[str, Any] = {"dest": f.name, "help": helps.get(f.name, f.name.replace("_", " "))}
        if f.name in required:
            kwargs.update(required=True)
        else:
            kwargs.update(default=default)
        if isinstance(default, bool):
            parser.add_argument(*flags, action=argparse.BooleanOptionalAction, **kwargs)
        elif isinstance(default, list):
            parser.add_argument(*flags, action="append", **kwargs)
        else:
            parser.add_argument(*flags, type=_scalar_type(hints[f.name], default), **kwargs)
        names.append(f.name)
    return names


def build_dataclass(cls: type, values: dict[str, Any]) -> Any:
    """An instance of `cls` from the parsed values that name its fields."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})
