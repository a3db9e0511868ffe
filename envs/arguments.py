"""Constructor arguments checked by name, so ``gym.make(id, typo=1)`` says what the env takes.

    @named_arguments
    class MyEnv(gym.Env):
        def __init__(self, cameras=("top",), image_size=64): ...

    gym.make("worldsim/MyEnv-v0", colour="red")
    # TypeError: MyEnv takes no argument 'colour'; its arguments: cameras, image_size

Python's own message names the bad argument only; this one lists the allowed ones too.
"""

from __future__ import annotations

import functools
import inspect

NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def allowed_arguments(init) -> list[str] | None:
    """Keyword arguments ``init`` takes (without ``self``), or None when it takes ``**kwargs``."""
    params = inspect.signature(init).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params if p.kind in NAMED and p.name != "self"]


def named_arguments(cls):
    """Class decorator: an unknown keyword argument to ``cls(...)`` is a TypeError listing the known ones."""
    init = cls.__init__
    allowed = allowed_arguments(init)
    if allowed is None:
        return cls

    @functools.wraps(init)
    def checked_init(self, *args, **kwargs):
        unknown = [k for k in kwargs if k not in allowed]
        if unknown:
            raise TypeError(f"{cls.__name__} takes no argument {', '.join(map(repr, unknown))}; "
                            f"its arguments: {', '.join(allowed)}")
        init(self, *args, **kwargs)

    cls.__init__ = checked_init
    return cls
