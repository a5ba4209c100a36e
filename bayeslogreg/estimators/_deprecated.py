"""Keywords of ``sample_posterior`` from before samplers were objects: read, with a warning.

``target_accept``, ``max_tree_depth``, ``dense_mass``, ``adapt_mass_matrix``,
``chain_method`` and ``progress_bar`` are now options of
:class:`bayeslogreg.samplers.NUTS`, and ``method`` is ``sampler``. Each keyword still
works and issues a ``FutureWarning`` saying what to write instead. An option the chosen
sampler does not use, an option given both as a keyword and in a sampler object, and
``method`` beside ``sampler`` are errors: never a silent ignore.
"""

import dataclasses
import warnings

from bayeslogreg._validation import check_choice
from bayeslogreg.estimators._samplers import NUTS, SHORTHANDS, Sampler, as_sampler

__all__ = ["KEYWORDS", "sampler_from_keywords"]

#: The deprecated keywords of sample_posterior: NUTS's options, then ``method``.
KEYWORDS = (*(field.name for field in dataclasses.fields(NUTS)), "method")


def sampler_from_keywords(sampler: Sampler | str | None, keywords: dict) -> Sampler:
    """Return the sampler of ``sample_posterior(sampler=sampler, **keywords)``.

    ``sampler`` is None when the caller did not pass one (NUTS's defaults then);
    ``keywords`` holds the other keyword arguments, which may only be deprecated ones.
    Errors are raised before the warning, so a refused call warns about nothing.
    """
    unknown = [name for name in keywords if name not in KEYWORDS]
    if unknown:
        raise TypeError(f"sample_posterior() got an unexpected keyword argument {unknown[0]!r}")
    if "method" in keywords:
        method = check_choice(keywords["method"], "method", tuple(SHORTHANDS))
        if sampler is not None:
            raise ValueError(
                f"sampler={sampler!r} and method={method!r} both choose the sampler; "
                "method= is deprecated: drop it and keep sampler=."
            )
        sampler = method
    chosen = as_sampler("nuts" if sampler is None else sampler)
    if not keywords:
        return chosen
    options = {name: value for name, value in keywords.items() if name != "method"}
    kind = type(chosen).__name__
    own = {field.name for field in dataclasses.fields(chosen)}
    foreign = [name for name in options if name not in own]
    if foreign:
        raise ValueError(
            f"the {kind} sampler does not use {_listed(foreign)} (options of NUTS); drop "
            f"{'it' if len(foreign) == 1 else 'them'}, or sample with NUTS: "
            f"sampler={_spelled('NUTS', options)}."
        )
    if options and not isinstance(sampler, str | None):
        merged = dataclasses.replace(chosen, **options)
        raise ValueError(
            f"{_listed(options)} given both as {'a keyword' if len(options) == 1 else 'keywords'}"
            f" and in sampler={chosen!r}; give each option once, in the sampler object: "
            f"sampler={_spelled_object(merged, options)}."
        )
    result = dataclasses.replace(chosen, **options)
    replacement = _spelled_object(result, options) if options else repr(sampler)
    deprecated = list(keywords)
    warnings.warn(
        f"{_listed(deprecated)} {'is' if len(deprecated) == 1 else 'are'} deprecated; pass "
        f"sampler={replacement}",
        FutureWarning,
        stacklevel=4,  # this function, sample_posterior, its entry_point wrapper, the caller
    )
    return result


def _listed(names) -> str:
    return ", ".join(f"{name}=" for name in names)


def _spelled(kind: str, options: dict) -> str:
    """How to write a sampler: ``bayeslogreg.samplers.NUTS(target_accept=0.95)``."""
    arguments = ", ".join(f"{name}={value!r}" for name, value in options.items())
    return f"bayeslogreg.samplers.{kind}({arguments})"


def _spelled_object(sampler: Sampler, given: dict) -> str:
    """How to write ``sampler``, naming the options in ``given`` and those not at default."""
    default = type(sampler)()
    names = [
        field.name
        for field in dataclasses.fields(sampler)
        if field.name in given or getattr(sampler, field.name) != getattr(default, field.name)
    ]
    return _spelled(type(sampler).__name__, {name: getattr(sampler, name) for name in names})
