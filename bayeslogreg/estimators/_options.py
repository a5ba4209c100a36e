"""Keywords from before solvers and samplers were objects: read, with a warning.

The options of an optimizer (``tol``, ``max_iter``, ``learning_rate`` ...) and of a
sampler (``target_accept``, ``dense_mass`` ...) now live on the objects of
:mod:`bayeslogreg.solvers` and :mod:`bayeslogreg.samplers`, and ``method=`` is
``solver=`` or ``sampler=``. Each old keyword still works and issues one
``FutureWarning`` that spells out the object to pass instead. An option that the chosen
object does not use, an option given both as a keyword and in an object, and ``method``
beside ``solver``/``sampler`` are errors, raised before any warning: never a silent
ignore.
"""

import dataclasses
import warnings
from collections.abc import Callable, Sequence

__all__ = ["from_keywords", "set_checked"]


def from_keywords(
    choice,
    keywords: dict,
    *,
    kind: str,
    classes: Sequence[type],
    resolve: Callable[[object, str], object],
    function: str,
    stacklevel: int,
):
    """Return the options object of a call from its ``kind`` argument and old keywords.

    Parameters
    ----------
    choice : object, str or None
        What the caller passed as ``kind`` (``solver=`` or ``sampler=``); None if nothing.
    keywords : dict
        The call's other keyword arguments; only ``method`` and the options of
        ``classes`` are allowed (anything else is a ``TypeError``, as Python's own).
    kind : {"solver", "sampler"}
    classes : sequence of dataclass types
        The objects of ``bayeslogreg.<kind>s``.
    resolve : callable
        ``resolve(choice, name)`` turns a choice (an object, a shorthand string or None)
        into an object, naming the argument ``name`` in its error messages.
    function : str
        The public function, for the ``TypeError``.
    stacklevel : int
        Of the warning, so that it points at the caller's line.
    """
    allowed = {"method"} | {field.name for cls in classes for field in dataclasses.fields(cls)}
    unknown = [name for name in keywords if name not in allowed]
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument {unknown[0]!r}")
    keywords = {name: value for name, value in keywords.items() if value is not None}
    options = {name: value for name, value in keywords.items() if name != "method"}
    if "method" in keywords:
        method = keywords["method"]
        chosen = resolve(method, "method")
        if choice is not None:
            raise ValueError(
                f"{kind}={choice!r} and method={method!r} both choose the {kind}; method= is "
                f"deprecated: drop it and keep {kind}=."
            )
    else:
        chosen = resolve(choice, kind)
    if not keywords:
        return chosen
    name = getattr(chosen, "name", type(chosen).__name__)
    own = {field.name for field in dataclasses.fields(chosen)}
    foreign = [option for option in options if option not in own]
    if foreign:
        owner = next(cls for cls in classes if set(foreign) <= _names(cls))
        raise ValueError(
            f"the {name} {kind} does not use {_listed(foreign)} (options of "
            f"{owner.__name__}); drop {'it' if len(foreign) == 1 else 'them'}, or use "
            f"{owner.__name__}: {kind}={_spelled(kind, owner.__name__, options)}."
        )
    result = dataclasses.replace(chosen, **options)
    if options and choice is not None and not isinstance(choice, str):
        raise ValueError(
            f"{_listed(options)} given both as {'a keyword' if len(options) == 1 else 'keywords'}"
            f" and in {kind}={chosen!r}; give each option once, in the {kind} object: "
            f"{kind}={_spelled_object(kind, result, options)}."
        )
    replacement = _spelled_object(kind, result, options) if options else repr(keywords["method"])
    warnings.warn(
        f"{_listed(keywords)} {'is' if len(keywords) == 1 else 'are'} deprecated; pass "
        f"{kind}={replacement}",
        FutureWarning,
        stacklevel=stacklevel,
    )
    return result


def set_checked(obj, **checks) -> None:
    """Check options of the frozen dataclass ``obj``, storing what each check returns.

    ``checks`` maps an option's name to its check, ``check(value, name) -> value`` (the
    functions of :mod:`bayeslogreg._validation`), which raises a ``ValueError`` naming
    the option when the value is bad.
    """
    for name, check in checks.items():
        object.__setattr__(obj, name, check(getattr(obj, name), name))


def _names(cls) -> set[str]:
    return {field.name for field in dataclasses.fields(cls)}


def _listed(names) -> str:
    return ", ".join(f"{name}=" for name in names)


def _spelled(kind: str, class_name: str, options: dict) -> str:
    """How to write an object: ``bayeslogreg.samplers.NUTS(target_accept=0.95)``."""
    arguments = ", ".join(f"{name}={value!r}" for name, value in options.items())
    return f"bayeslogreg.{kind}s.{class_name}({arguments})"


def _spelled_object(kind: str, obj, given: dict) -> str:
    """How to write ``obj``, naming the options in ``given`` and those not at default."""
    default = type(obj)()
    names = [
        field.name
        for field in dataclasses.fields(obj)
        if field.name in given or getattr(obj, field.name) != getattr(default, field.name)
    ]
    return _spelled(kind, type(obj).__name__, {name: getattr(obj, name) for name in names})
