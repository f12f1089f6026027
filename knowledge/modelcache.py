"""Trained scorers kept on disk between starts, keyed by everything that goes into them.

Training the scorers from the example files takes one to two seconds at every start of every process (the
web app, each rq worker, each command). The same examples, code and settings always give the same model
(``knowledge/learned.py`` trains deterministically), so a model trained once is stored and read back
while nothing it depends on has changed: the training texts themselves, the scorer's settings, the
source of the modules that turn a message into features, the concept lexicon and the pinyin library's
version. A cadre who edits an example file changes the key, and the next start trains afresh.

The directory is ``QINGCHE_MODEL_CACHE`` (``off`` trains at every start, as before), by default
``$XDG_CACHE_HOME/qingche/models`` (``~/.cache/qingche/models``). It is created readable by its owner
only, and is not used when someone else owns it: the files are Python pickles, and a pickle from someone
else is code from someone else. A file that cannot be read is trained again and replaced; writes go
through a temporary file, so two processes starting together never read half a model. A model not read
for ``KEEP_DAYS`` is removed when another is written (old examples leave old models behind).
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import tempfile
import time
from pathlib import Path

ENV = "QINGCHE_MODEL_CACHE"
KEEP_DAYS = 14
_HERE = Path(__file__).resolve().parent
# what turns a message into features, besides the training texts: a change to any of these is a new model
_SOURCES = ("learned.py", "normalize.py", "phonetic.py", "concepts.py", "concepts.yaml", "modelcache.py")

log = logging.getLogger(__name__)


def directory() -> Path | None:
    """Where trained models are kept, or None when the cache is off."""
    raw = os.environ.get(ENV, "").strip()
    if raw.lower() in ("off", "0", "no", "false"):
        return None
    if raw:
        return Path(raw)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qingche" / "models"


@functools.lru_cache(maxsize=1)
def _code_digest() -> bytes:
    import pypinyin

    h = hashlib.sha256(pypinyin.__version__.encode())
    for name in _SOURCES:
        h.update(name.encode())
        h.update((_HERE / name).read_bytes())
    return h.digest()


def trained(cls, *args, **kwargs):
    """``cls(*args, **kwargs)``, read from the cache when the same model was trained before. The key
    includes ``cls.training_settings()``: the constants training reads (a change to one is a new model)."""
    where = directory()
    if where is None:
        return cls(*args, **kwargs)
    settings = cls.training_settings() if hasattr(cls, "training_settings") else ()
    key = hashlib.sha256(_code_digest())
    key.update(pickle.dumps((cls.__module__, cls.__qualname__, args, sorted(kwargs.items()), settings),
                            protocol=4))
    path = where / f"{cls.__name__.lower()}-{key.hexdigest()[:32]}.pickle"
    try:
        if where.stat().st_uid != os.getuid():
            log.warning("model cache: %s belongs to someone else; not used", where)
            return cls(*args, **kwargs)
        with open(path, "rb") as f:
            model = pickle.load(f)
        if type(model) is cls:
            try:
                os.utime(path)   # read: still in use
            except OSError:
                pass
            return model
    except FileNotFoundError:
        pass
    except Exception:   # noqa: BLE001 - a damaged or foreign file: train again and replace it
        log.warning("model cache: %s could not be read; training again", path.name)
    model = cls(*args, **kwargs)
    _keep(model, where, path)
    return model


def _keep(model, where: Path, path: Path) -> None:
    tmp = None
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where, prefix=".tmp-", suffix=".pickle")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        tmp = None
        old = time.time() - KEEP_DAYS * 86400
        for other in where.glob("*.pickle"):
            if other.stat().st_mtime < old:
                other.unlink(missing_ok=True)
    except OSError as e:   # a read-only home, a full disk: the model still works, it is just not kept
        log.warning("model cache: could not keep %s: %s", path.name, e)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
