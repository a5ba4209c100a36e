"""Results as strict JSON documents, exact and safe to read.

A document is ``{"format": "bayeslogreg.<Class>", "format_version": 1,
"bayeslogreg_version": ..., "fields": {...}}`` with one entry per dataclass field.
Values are encoded so that they come back identical:

- ``None``, bools, ints, strings; floats through their shortest exact repr, and
  ``{"type": "float", "value": "inf"}`` (or ``"-inf"``, ``"nan"``) where not finite,
  since strict JSON has no such numbers;
- tuples as lists (every list reads back as a tuple);
- ndarrays as ``{"type": "ndarray", "dtype": "float64", "shape": [...], "data": [...]}``,
  flat in C order, with the strings ``"inf"``, ``"-inf"`` and ``"nan"`` for those floats;
- priors as ``{"type": "prior", "value": Prior.to_dict()}``;
- dicts with string keys as ``{"type": "dict", "value": {...}}``;
- the frozen dataclasses named in ``_DATACLASSES`` as
  ``{"type": "dataclass", "name": ..., "fields": {...}}``.

Reading never unpickles or evaluates anything: a file can name only those classes.
"""

import dataclasses
import importlib
import json
import math
import types
import typing
from importlib import metadata
from pathlib import Path

import numpy as np

from bayeslogreg.priors import Prior, prior_from_dict

__all__ = ["FORMAT_VERSION", "dumps", "loads", "read"]

#: Raise it when a change makes older bayeslogreg versions misread new files. 2: ``n_rows``
#: (was ``n_samples``); 3: PointEstimate records ``n_obs``, ``weighted``, ``binomial``,
#: ``has_offset`` and ``saturated_log_likelihood`` (older files load with their defaults);
#: 4: PointEstimate records ``null_log_likelihood`` and ``weight_sum`` (None in older
#: files: ``llnull`` and what needs it are NaN there); 5: PointEstimate records
#: ``prior_choice`` (None in older files), and an intercept prior may be ``Centered``.
FORMAT_VERSION = 5
#: Fields renamed since format version 1: old name -> new name.
_RENAMED = {"n_samples": "n_rows"}
_DTYPES = ("float64", "float32", "int64", "int32", "bool")
_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}
# Class name -> module of the dataclasses a document may contain; a module is imported
# only when a file names its class.
_DATACLASSES = {
    "FormulaEncoding": "bayeslogreg._formula",
    "IMH": "bayeslogreg.estimators._samplers",
    "NUTS": "bayeslogreg.estimators._samplers",
    "PointEstimate": "bayeslogreg.estimators._point_estimate",
    "Separation": "bayeslogreg.separation",
}


def dumps(obj, *, exclude: tuple[str, ...] = ()) -> str:
    """Encode the dataclass ``obj`` (less the fields in ``exclude``) as a JSON document.

    Raises ``TypeError`` for a value that cannot be encoded exactly.
    """
    document = {
        "format": f"bayeslogreg.{type(obj).__name__}",
        "format_version": FORMAT_VERSION,
        "bayeslogreg_version": _version(),
        "fields": _encode_fields(obj, exclude),
    }
    return json.dumps(document, allow_nan=False)


def loads(text: str | bytes, cls: type, where, *, exclude: tuple[str, ...] = ()) -> dict:
    """Decode a document of ``dumps`` for the dataclass ``cls``; return its fields.

    Parameters
    ----------
    text : str or bytes
        The JSON document.
    cls : type
        The dataclass expected; a document of another class is refused.
    where : str or Path
        The file the text came from, for the error messages.
    exclude : tuple of str
        Fields of ``cls`` that the document does not hold.

    Returns
    -------
    dict
        Field name to value, ready for ``cls(**fields, **excluded_fields)``.

    Raises
    ------
    ValueError
        Naming ``where``, if the text is not JSON, not a ``cls`` document, written in a
        newer format version, or damaged.
    """
    kind = f"bayeslogreg.{cls.__name__}"
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ValueError(
            f"{where} is not a {cls.__name__} file: it is not JSON text, or it was cut "
            f"short ({exc})."
        ) from None
    found = document.get("format") if isinstance(document, dict) else None
    if found != kind:
        hint = f"; it holds a {found}" if isinstance(found, str) and found else ""
        raise ValueError(
            f'{where} is not a {cls.__name__} file: it has no "format": "{kind}" tag{hint}.'
        )
    _check_version(document, where)
    try:
        fields = _decode_fields(document.get("fields"))
        fields = {_RENAMED.get(name, name): value for name, value in fields.items()}
        _check_fields(cls, fields, exclude)
    except (ImportError, KeyError, TypeError, ValueError, RecursionError) as exc:
        detail = f"missing or invalid entry {exc}" if isinstance(exc, KeyError) else exc
        raise ValueError(f"{where} is a damaged {cls.__name__} file: {detail}") from None
    return fields


def read(path, cls: type):
    """Read a file written with ``dumps`` and build the ``cls`` it holds.

    ``FileNotFoundError`` if there is no file, ``ValueError`` (see :func:`loads`) if it
    is not a valid ``cls`` file.
    """
    data = Path(path).read_bytes()
    if not data:
        raise ValueError(f"{path} is empty; it is not a {cls.__name__} file.")
    return cls(**loads(data, cls, path))


def _version() -> str:
    try:
        return metadata.version("bayeslogreg")
    except metadata.PackageNotFoundError:  # a source tree that was not installed
        return "0+unknown"


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not strict JSON")


def _check_version(document: dict, where) -> None:
    version = document.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{where} has an invalid format_version {version!r}.")
    if version > FORMAT_VERSION:
        writer = document.get("bayeslogreg_version", "?")
        raise ValueError(
            f"{where} was written in format version {version} by bayeslogreg {writer}; "
            f"this bayeslogreg ({_version()}) reads format versions up to {FORMAT_VERSION}. "
            "Upgrade bayeslogreg to load it."
        )


def _check_fields(cls: type, fields: dict, exclude: tuple[str, ...]) -> None:
    """Raise unless ``fields`` are those of ``cls`` (less ``exclude``), each of its type."""
    _check_names(cls, fields, exclude)
    hints = typing.get_type_hints(cls)
    for name, value in fields.items():
        if not _is_of_type(value, hints[name]):
            raise ValueError(
                f"{name} must be {_type_name(hints[name])}; got {type(value).__name__} "
                f"{value!r:.60}"
            )


def _is_of_type(value, hint) -> bool:
    """Whether a decoded ``value`` has the annotated type ``hint`` of a result field."""
    if hint is typing.Any or hint is object:
        return True
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_is_of_type(value, part) for part in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if typing.get_origin(hint) is tuple:  # tuple[str, ...]
        item = typing.get_args(hint)[0]
        return isinstance(value, tuple) and all(_is_of_type(v, item) for v in value)
    if hint is float:  # JSON writes integral floats without a fraction in some writers
        return isinstance(value, float | int) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _type_name(hint) -> str:
    if isinstance(hint, type) and typing.get_origin(hint) is None:
        return hint.__name__
    return str(hint).replace("typing.", "")


def _check_names(cls: type, fields: dict, exclude: tuple[str, ...]) -> None:
    expected = [f for f in dataclasses.fields(cls) if f.name not in exclude]
    unknown = set(fields) - {f.name for f in expected}
    required = [
        f.name
        for f in expected
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in fields]
    if unknown or missing:
        raise ValueError(
            f"{cls.__name__} fields do not match: unknown {sorted(unknown)}, missing "
            f"{missing} (written by another bayeslogreg version?)"
        )


def _encode_fields(obj, exclude: tuple[str, ...] = ()) -> dict:
    return {
        f.name: _encode(getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if f.name not in exclude
    }


def _encode(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"type": "float", "value": _nonfinite(value)}
    if isinstance(value, np.generic):
        return _encode(value.item())
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if isinstance(value, np.ndarray):
        return _encode_array(value)
    if isinstance(value, Prior):
        return {"type": "prior", "value": value.to_dict()}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"type": "dict", "value": {key: _encode(v) for key, v in value.items()}}
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and _DATACLASSES.get(name) == type(value).__module__:
        return {"type": "dataclass", "name": name, "fields": _encode_fields(value)}
    raise TypeError(f"cannot save a value of type {type(value).__name__}: {value!r:.80}")


def _nonfinite(value: float) -> str:
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _encode_array(array: np.ndarray) -> dict:
    if array.dtype.name not in _DTYPES:
        raise TypeError(f"cannot save an array of dtype {array.dtype}; supported: {_DTYPES}.")
    data = array.ravel().tolist()
    if array.dtype.kind == "f":
        data = [v if math.isfinite(v) else _nonfinite(v) for v in data]
    return {"type": "ndarray", "dtype": array.dtype.name, "shape": list(array.shape), "data": data}


def _decode_fields(fields) -> dict:
    if not isinstance(fields, dict):
        raise ValueError(f"'fields' must be a JSON object; got {fields!r:.80}")
    return {name: _decode(value) for name, value in fields.items()}


def _decode(value):
    if isinstance(value, list):
        return tuple(_decode(item) for item in value)
    if not isinstance(value, dict):
        return value
    kind = value.get("type")
    if kind == "float":
        return _NONFINITE[value["value"]]
    if kind == "ndarray":
        return _decode_array(value)
    if kind == "prior":
        return prior_from_dict(value["value"])
    if kind == "dict" and isinstance(value.get("value"), dict):
        return {key: _decode(v) for key, v in value["value"].items()}
    if kind == "dataclass" and value.get("name") in _DATACLASSES:
        module = importlib.import_module(_DATACLASSES[value["name"]])
        cls = getattr(module, value["name"])
        fields = _decode_fields(value["fields"])
        _check_fields(cls, fields, ())
        return cls(**fields)
    raise ValueError(f"unknown entry {value!r:.80}")


def _decode_array(value: dict) -> np.ndarray:
    dtype, shape, data = value["dtype"], value["shape"], value["data"]
    if dtype not in _DTYPES or not isinstance(data, list):
        raise ValueError(f"invalid array entry (dtype {dtype!r})")
    if dtype.startswith("float"):
        data = [_NONFINITE[v] if isinstance(v, str) else v for v in data]
    return np.array(data, dtype=dtype).reshape(shape)
