"""株洲日报 archive question answering: ingest -> embedding -> search -> answer -> evaluation.

Each stage is a sub-package whose ``__init__`` names its public surface. The
names load on first use, so importing one small module (``rag.cli``,
``rag.ingest.sentences``) never drags in a whole stage or its heavy libraries.
"""

from importlib import import_module


def lazy_exports(package: str, surface: dict[str, tuple[str, ...]]):
    """``__all__`` and a module ``__getattr__`` (PEP 562) that import each name of
    ``surface`` ({module: names}) from its module the first time it is asked for."""
    home = {name: module for module, names in surface.items() for name in names}

    def __getattr__(name: str):
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{home[name]}"), name)

    return sorted(home), __getattr__
