"""Estimator classes that differ from their base class in their defaults only.

scikit-learn reads an estimator's parameters and their defaults from the signature of its
``__init__`` (and refuses ``**kwargs``), so a class with other defaults needs an ``__init__``
of its own.  :func:`init_with_defaults` makes it a copy of the base class's, with the same
body and parameters and the defaults of one dict; :func:`documented_defaults` rewrites the
``default=`` of each numpydoc parameter line of a docstring from that dict.  The dict is then
the one place the variant's defaults are written.

This module imports neither TensorFlow nor Keras.
"""

import re
import types

#: A numpydoc parameter line: ``name : type, default=value`` (or ``a, b : type, default=x, y``).
_PARAMETER_LINE = re.compile(
    r"^(?P<head>\s*(?P<names>\w+(?:, \w+)*) : .*?, default=)(?P<values>.*)$", re.MULTILINE
)


def init_with_defaults(init, defaults, qualname):
    """A copy of the function ``init`` whose parameter defaults are ``defaults[name]``.

    Parameters
    ----------
    init : function
        An ``__init__`` whose parameters all have defaults.
    defaults : dict
        A default for every parameter of ``init`` (other keys are ignored).
    qualname : str
        ``__qualname__`` of the copy (``"WGANEstimator.__init__"``).

    Returns
    -------
    function
        Same code, globals and docstring; the signature shows the new defaults.
    """
    code = init.__code__
    positional = code.co_varnames[1 : code.co_argcount]  # after self
    copy = types.FunctionType(
        code,
        init.__globals__,
        init.__name__,
        tuple(defaults[name] for name in positional),
        init.__closure__,
    )
    copy.__kwdefaults__ = {name: defaults[name] for name in init.__kwdefaults__ or {}}
    copy.__qualname__ = qualname
    copy.__doc__ = init.__doc__
    copy.__module__ = init.__module__
    copy.__dict__.update(init.__dict__)
    return copy


def _shown(value):
    """A default as numpydoc lines write it: ``"gan"``, ``None``, ``0.5``."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def documented_defaults(doc, defaults, documented):
    """``doc`` with the ``default=`` of each parameter line rewritten from ``defaults``
    where it differs from ``documented`` (the defaults ``doc`` was written for).

    A line for two parameters (``beta_1, beta_2 : float, default=0.5, 0.9``) is rewritten
    value by value.
    """

    def rewrite(match):
        names = match["names"].split(", ")
        values = match["values"].split(", ") if len(names) > 1 else [match["values"]]
        if len(values) != len(names):
            return match[0]
        shown = [
            _shown(defaults[name])
            if name in defaults and defaults[name] != documented.get(name)
            else value
            for name, value in zip(names, values, strict=True)
        ]
        return match["head"] + ", ".join(shown)

    return _PARAMETER_LINE.sub(rewrite, doc)


def changed_defaults(defaults, base):
    """``name=value`` of the defaults that differ from ``base``, as reST literals."""
    return ", ".join(
        f"``{name}={_shown(value)}``" for name, value in defaults.items() if base[name] != value
    )
