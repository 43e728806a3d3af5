"""One codec for every job state: a frozen dataclass's fields <-> JSON.

A state inherits :class:`StateCodec` and gets ``to_dict()``/``from_dict()``
from its fields' types; no job writes its own. The rules:

* a field is a key of its name; a field declared ``grouped("options", ...)``
  travels inside the object ``options`` (the payload's shape);
* ``str``, ``int``, ``float``, ``bool`` are JSON scalars, ``X | None`` adds
  ``null``, ``tuple[X, ...]`` is a list, ``Mapping[str, ...]`` an object
  (copied, not walked), a nested dataclass an object by the same rules;
* a state with ``omit_empty = True`` leaves out a field that is ``None``
  or still its empty ``default_factory`` value; ``from_dict`` rebuilds it
  from the default (the OMR state: a step message carries only what is set);
* ``from_dict`` refuses unknown keys and values of the wrong type with
  ``state_invalid``; a missing key takes the field's default.

Examples:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Demo(StateCodec):
    ...     name: str
    ...     sizes: tuple[int, ...] = ()
    ...     dpi: int = grouped("options", 200)
    >>> Demo("a", (1, 2)).to_dict()
    {'name': 'a', 'sizes': [1, 2], 'options': {'dpi': 200}}
    >>> Demo.from_dict({"name": "a", "sizes": [1, 2], "options": {"dpi": 200}}) == Demo("a", (1, 2))
    True
    >>> Demo.from_dict({"name": 5})
    Traceback (most recent call last):
    ...
    ai_tasks.errors.JobPayloadError: state_invalid: Demo.name must be str, got int
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar, Union

from ai_tasks.errors import JobPayloadError

__all__ = ["StateCodec", "grouped", "state_from_dict", "state_to_dict"]

#: ``dataclasses.field`` metadata key: the JSON object a field travels in.
GROUP = "ai_tasks.jobs.codec.group"
_SCALARS = (str, int, float, bool)

T = TypeVar("T")


def grouped(group: str, default: Any) -> Any:
    """A state field that travels inside the JSON object ``group`` (``options`` for OCR)."""
    return dataclasses.field(default=default, metadata={GROUP: group})


class StateCodec:
    """``to_dict``/``from_dict`` for a frozen state dataclass, from its field types."""

    #: leave out fields that are ``None`` or their empty ``default_factory`` value.
    omit_empty: ClassVar[bool] = False

    def to_dict(self) -> dict[str, Any]:
        """The state as JSON-ready data (what crosses the broker)."""
        return state_to_dict(self)

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
        """Rebuild the state that :meth:`to_dict` gave; ``state_invalid`` for anything else."""
        return state_from_dict(cls, data)


_FieldInfo = tuple[dataclasses.Field[Any], Any, str | None]
_FIELDS: dict[type, tuple[_FieldInfo, ...]] = {}


def _fields(cls: type) -> tuple[_FieldInfo, ...]:
    """(field, resolved type, group) of every field of a state class (resolved once per class)."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = tuple((f, hints[f.name], f.metadata.get(GROUP)) for f in dataclasses.fields(cls))
    return _FIELDS[cls]


def _is_empty_default(f: dataclasses.Field[Any], value: Any) -> bool:
    if value is None:
        return True
    return f.default_factory is not dataclasses.MISSING and value == f.default_factory()


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return state_to_dict(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def state_to_dict(state: Any) -> dict[str, Any]:
    """A state dataclass as JSON-ready data, by the module's rules."""
    omit = bool(getattr(state, "omit_empty", False))
    out: dict[str, Any] = {}
    for f, _, group in _fields(type(state)):
        value = getattr(state, f.name)
        if omit and _is_empty_default(f, value):
            continue
        (out.setdefault(group, {}) if group else out)[f.name] = _encode(value)
    return out


def _invalid(where: str, expected: str, value: Any) -> JobPayloadError:
    return JobPayloadError("state_invalid", f"{where} must be {expected}, got {type(value).__name__}")


def _decode(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin is Union or origin is types.UnionType:
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(inner) < len(typing.get_args(tp)):
            return None
        return _decode(inner[0], value, where)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise _invalid(where, "an object", value)
        return state_from_dict(tp, value)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise _invalid(where, "a list", value)
        item = typing.get_args(tp)[0]
        return tuple(_decode(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (Mapping, dict) or tp in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise _invalid(where, "an object", value)
        return dict(value)
    if tp in _SCALARS:
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise _invalid(where, tp.__name__, value)
        return value
    raise TypeError(f"{where}: the state codec has no rule for {tp!r}")  # a state declared with a new type


def _unknown(name: str, data: Mapping[str, Any], known: set[str]) -> None:
    extra = sorted(str(k) for k in set(data) - known)
    if extra:
        raise JobPayloadError("state_invalid", f"unknown {name} field(s): {', '.join(extra)}")


def state_from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """Rebuild a state dataclass from :func:`state_to_dict`'s data."""
    name = cls.__name__
    if not isinstance(data, Mapping):
        raise _invalid(name, "an object", data)
    fields = _fields(cls)
    groups = {g for _, _, g in fields if g}
    _unknown(name, data, {f.name for f, _, g in fields if not g} | groups)
    for g in groups:
        inner = data.get(g) or {}
        if not isinstance(inner, Mapping):
            raise _invalid(f"{name}.{g}", "an object", inner)
        _unknown(f"{name}.{g}", inner, {f.name for f, _, fg in fields if fg == g})
    kwargs: dict[str, Any] = {}
    for f, tp, group in fields:
        source = (data.get(group) or {}) if group else data
        if f.name in source:
            kwargs[f.name] = _decode(tp, source[f.name], f"{name}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise JobPayloadError("state_invalid", f"{name} has no {f.name}")
    return cls(**kwargs)
