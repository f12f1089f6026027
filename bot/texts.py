"""Every sentence a user reads lives in ``knowledge/texts/*.yaml``; this module looks them up.

A key is ``<file stem>.<name>``, e.g. ``common.help``. Templates use ``str.format`` fields.

:func:`check` (run by ``qingche knowledge check``) makes sure each text loads whole, because YAML cuts
texts silently: in an unquoted text `` #`` starts a comment, and ``发“查询 #工单号”看详情`` loads as
``发“查询``. It reports, as ``file: key: reason``:

- a `` #`` that YAML reads as a comment on the same line as a text (found from the source: every ``#``
  at a line's start or after a space that lies outside every scalar node's span, as the YAML composer
  marks them, is a comment; one on a line of its own is a note and allowed);
- unbalanced quotes or brackets (“”, 「」, （）, (), 【】, 《》), the usual sign of a cut;
- a ``{placeholder}`` the code does not fill in, or a malformed template.

The fields each text is formatted with are read from the code itself, so the check stays right as
the code changes and needs no table to keep up to date: :func:`code_fields` parses the Python files
under bot/, handlers/ and knowledge/ (``ast``, nothing is imported or run) and finds every call that
renders a text — ``texts.t("key", ...)``, ``ctx.t(...)``, and the wrappers that prefix a key
(a function or exception class whose body renders ``f"tickets.{key}"`` with the ``**fields`` it was
given, such as ``service.t``, ``digest.t``, ``Refused``, ``WhistleError``, found automatically). Its
keyword names are the fields; a ``**dict`` is followed to a dict literal, a local name bound to one, or
a function returning one (``**_fields(session, ticket)``). An f-string key (``t(f"status_{s}")``)
applies to every key it matches. When every call of a key is understood, its placeholders must be
among those fields; when a key is only rendered through a variable or an opaque ``**fields``, its
placeholders must at least be a field name the code passes to some text (this still catches a
misspelt or mangled placeholder without false alarms).
"""
from __future__ import annotations

import ast
import functools
import re
import string
from pathlib import Path

import yaml

from knowledge import yamlio

TEXTS_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "texts"


@functools.lru_cache(maxsize=1)
def _load() -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(TEXTS_DIR.glob("*.yaml")):
        data = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path.name}: expected a mapping of key: text")
        for key, value in data.items():
            if not isinstance(value, str):
                raise ValueError(f"{path.name}: {key}: expected text, got {type(value).__name__}")
            texts[f"{path.stem}.{key}"] = value.rstrip("\n")
    return texts


def t(key: str, **fields) -> str:
    """The text for ``key`` with ``fields`` filled in. An unknown key raises KeyError."""
    template = _load()[key]
    return template.format(**fields) if fields else template


def has(key: str) -> bool:
    """Whether a text exists for ``key``."""
    return key in _load()


def reload() -> None:
    """Forget cached texts (after a cadre edits a file)."""
    _load.cache_clear()


# --- checking the files (``qingche knowledge check``) -------------------------------------------

PAIRS = {"“": "”", "「": "」", "（": "）", "(": ")", "【": "】", "《": "》"}
CODE_DIRS = ("bot", "handlers", "knowledge")
_ROOT = Path(__file__).resolve().parent.parent


def check(directory: str | Path | None = None, code_root: str | Path | None = None) -> list[str]:
    """Every problem in the texts files, as ``file: key: reason`` lines (empty when all is well)."""
    errors: list[str] = []
    texts: dict[str, tuple[str, str, str]] = {}  # key -> (file name, name in file, text)
    for path in sorted(Path(directory or TEXTS_DIR).glob("*.yaml")):
        errors += _check_file(path, texts)
    usage = code_fields(code_root or _ROOT)
    for key, (file, name, text) in sorted(texts.items()):
        errors += [f"{file}: {name}: {reason}" for reason in _check_text(key, text, usage)]
    return errors


def _check_file(path: Path, out: dict[str, tuple[str, str, str]]) -> list[str]:
    source = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        return [f"{path.name}: not valid YAML: {exc}".replace("\n", " ")]
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        return [f"{path.name}: expected a mapping of key: text"]
    errors: list[str] = []
    spans: list[tuple[int, int]] = []
    values: list[tuple[str, yaml.Node]] = []
    for key_node, value_node in root.value:
        name = str(key_node.value)
        spans.append((key_node.start_mark.index, key_node.end_mark.index))
        if not isinstance(value_node, yaml.ScalarNode) or value_node.tag != "tag:yaml.org,2002:str":
            kind = "nothing" if value_node.tag.endswith(":null") else "a list or mapping" \
                if not isinstance(value_node, yaml.ScalarNode) else f"{value_node.tag.rsplit(':', 1)[-1]}"
            errors.append(f"{path.name}: {name}: expected text, got {kind}")
        else:
            out[f"{path.stem}.{name}"] = (path.name, name, str(value_node.value).rstrip("\n"))
        spans.append((value_node.start_mark.index, value_node.end_mark.index))
        values.append((name, value_node))
    for index, line in _comments(source, spans):
        if not source[source.rfind("\n", 0, index) + 1:index].strip():
            continue  # a comment on a line of its own
        name, node = ([(n, v) for n, v in values if v.start_mark.index <= index] or [("?", None)])[-1]
        if isinstance(node, yaml.ScalarNode) and not node.style:
            reason = "' #' starts a YAML comment, so the text is cut there; put the text in double quotes"
        else:
            reason = "a comment after the text (' #'); keep notes on a line of their own"
        errors.append(f"{path.name}: {name}: line {line + 1}: {reason}")
    return errors


def _comments(source: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(index, line) of every ``#`` that YAML reads as the start of a comment: outside every scalar,
    at the start of a line or after a space."""
    found = []
    for i, char in enumerate(source):
        if char == "#" and (i == 0 or source[i - 1] in " \t\n") \
                and not any(start <= i < end for start, end in spans):
            found.append((i, source.count("\n", 0, i)))
    return found


def _check_text(key: str, text: str, usage: Usage) -> list[str]:
    reasons = []
    stack: list[str] = []
    closers = {v: k for k, v in PAIRS.items()}
    for char in text:
        if char in PAIRS:
            stack.append(char)
        elif char in closers:
            if not stack or stack[-1] != closers[char]:
                reasons.append(f"'{char}' closes nothing (unbalanced quotes or brackets): the text may be cut")
                break
            stack.pop()
    else:
        if stack:
            reasons.append(f"'{stack[-1]}' is never closed (unbalanced quotes or brackets): the text may be cut")
    try:
        names = {f.split(".")[0].split("[")[0] for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        return reasons + [f"not a valid template ({exc}); write a literal brace as {{{{ or }}}}"]
    allowed, exact = usage.allowed(key)
    for field in sorted(names - allowed):
        if not field or field.isdigit():
            reasons.append("a placeholder must be named, e.g. {number}")
        elif exact:
            reasons.append(f"{{{field}}} is not a field the code fills in for this text "
                           f"(it gives: {', '.join(sorted(allowed)) or 'none'})")
        else:
            reasons.append(f"{{{field}}} is not a field the code fills in for any text")
    return reasons


class Usage:
    """What the code passes to each text: exact keys, key patterns (f-strings), and every field name."""

    def __init__(self) -> None:
        self.exact: dict[str, set[str] | None] = {}  # key -> fields (None: not all known)
        self.patterns: list[tuple[re.Pattern, set[str] | None]] = []
        self.vocabulary: set[str] = set()

    def add(self, key, fields: set[str] | None) -> None:
        if isinstance(key, re.Pattern):
            self.patterns.append((key, fields))
        else:
            known = self.exact.get(key, set()) if key in self.exact else set()
            self.exact[key] = None if fields is None or known is None else known | fields

    def allowed(self, key: str) -> tuple[set[str], bool]:
        """The fields ``key`` is formatted with, and whether that set is exact (else: every field name)."""
        found = [self.exact[key]] if key in self.exact else []
        found += [fields for pattern, fields in self.patterns if pattern.fullmatch(key)]
        if not found or any(f is None for f in found):
            return self.vocabulary, False
        return set().union(*found), True


def code_fields(root: str | Path) -> Usage:
    """Scan the project's Python code for the calls that format texts (see the module docstring)."""
    modules = {}
    for folder in CODE_DIRS:
        for path in sorted((Path(root) / folder).rglob("*.py")):
            try:
                dotted = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
                modules[dotted] = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError):
                continue
    return _Scanner(modules).usage


class _Scanner:
    """The AST walk behind :func:`code_fields`."""

    def __init__(self, modules: dict[str, ast.Module]) -> None:
        self.usage = Usage()
        self.functions: dict[str, list[tuple[str, ast.FunctionDef]]] = {}
        self.wrappers: dict[tuple[str | None, str], str] = {}  # (module, or None for a class; name) -> prefix
        self.wrapper_defs: set[int] = set()  # the functions inside wrappers that render their key
        for module, tree in modules.items():
            for node in ast.walk(tree):
                if isinstance(node, (ast.Call, ast.Dict)):
                    self.usage.vocabulary |= {k.arg for k in getattr(node, "keywords", []) if k.arg}
                    self.usage.vocabulary |= {k.value for k in getattr(node, "keys", [])
                                              if isinstance(k, ast.Constant) and isinstance(k.value, str)}
                if isinstance(node, ast.FunctionDef):
                    self.functions.setdefault(node.name, []).append((module, node))
        for _ in range(3):  # a wrapper may wrap a wrapper
            for module, tree in modules.items():
                self._find_wrappers(module, tree)
        for module, tree in modules.items():
            self._collect(module, tree, _imports(tree), tree, {})

    def _prefix(self, module: str, func: ast.expr, imports: dict[str, str]) -> str | None:
        """The key prefix if ``func`` renders a text, else None."""
        if isinstance(func, ast.Name):
            for owner in (module, None):
                if (owner, func.id) in self.wrappers:
                    return self.wrappers[(owner, func.id)]
            origin = imports.get(func.id, "")
            return "" if origin == "bot.texts.t" else self.wrappers.get(tuple(origin.rsplit(".", 1)))
        if isinstance(func, ast.Attribute):
            if (None, func.attr) in self.wrappers:
                return self.wrappers[(None, func.attr)]
            if func.attr != "t":
                return None
            owner = imports.get(func.value.id) if isinstance(func.value, ast.Name) else None
            if owner is None or owner == "bot.texts":
                return ""  # texts.t, ctx.t
            return self.wrappers.get((owner, "t"))
        return None

    def _find_wrappers(self, module: str, tree: ast.Module) -> None:
        imports = _imports(tree)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                prefix = self._renders_key(module, node, node, imports)
                if prefix is not None:
                    self.wrappers[(module, node.name)] = prefix
            elif isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
                prefix = next((self.wrappers[(None, b)] for b in bases if (None, b) in self.wrappers), None)
                init = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
                for method in (f for f in node.body if isinstance(f, ast.FunctionDef)):
                    prefix = self._renders_key(module, method, init, imports) if prefix is None else prefix
                if prefix is not None:
                    self.wrappers[(None, node.name)] = prefix

    def _renders_key(self, module: str, func: ast.FunctionDef, init: ast.FunctionDef | None,
                     imports: dict[str, str]) -> str | None:
        """The prefix if ``func`` renders f"<prefix>{key}" with ``**fields``, both taken by ``init``."""
        if init is None or init.args.kwarg is None:
            return None
        params = [a.arg for a in init.args.args if a.arg != "self"]
        for call in (n for n in ast.walk(func) if isinstance(n, ast.Call)):
            key = call.args[0] if call.args else None
            inner = _param_prefix(key, params[0]) if params and isinstance(key, ast.JoinedStr) else None
            outer = self._prefix(module, call.func, imports) if inner is not None else None
            if outer is not None:
                self.wrapper_defs.add(id(func))
                return outer + inner
        return None

    def _collect(self, module: str, node: ast.AST, imports: dict[str, str], scope: ast.AST,
                 assigned: dict[str, ast.expr]) -> None:
        """Record every rendering call under ``node``; ``scope`` is the innermost function."""
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._collect(module, child, imports, child, _assignments(child))
                continue
            if isinstance(child, ast.Call) and id(scope) not in self.wrapper_defs:
                self._record(module, child, imports, assigned)
            self._collect(module, child, imports, scope, assigned)

    def _record(self, module: str, call: ast.Call, imports: dict[str, str], assigned: dict[str, ast.expr]) -> None:
        func = call.func
        if isinstance(func, ast.Name) and isinstance(assigned.get(func.id), (ast.Name, ast.Attribute)):
            func = assigned[func.id]  # t = ctx.t
        prefix = self._prefix(module, func, imports)
        if prefix is None or not call.args:
            return
        fields: set[str] | None = {k.arg for k in call.keywords if k.arg}
        for extra in (k.value for k in call.keywords if k.arg is None):
            keys = self._dict_keys(module, extra, assigned)
            fields = None if keys is None or fields is None else fields | keys
        keys = _strings(call.args[0], assigned)
        if keys is not None:
            for key in keys:
                self.usage.add(prefix + key, fields)
        elif isinstance(call.args[0], ast.JoinedStr):
            parts = call.args[0].values
            pattern = "".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in parts)
            if any(isinstance(v, ast.Constant) and v.value for v in parts):  # f"{key}" alone says nothing
                self.usage.add(re.compile(re.escape(prefix) + pattern), fields)

    def _dict_keys(self, module: str, node: ast.expr, assigned: dict[str, ast.expr], depth: int = 0) -> set[str] | None:
        """The keys of a dict expression: a literal, a local name bound to one, or a call of a function
        that returns one; None when they cannot be known."""
        if depth > 5:
            return None
        if isinstance(node, ast.Dict):
            keys: set[str] = set()
            for k, v in zip(node.keys, node.values, strict=True):
                if k is None:
                    inner = self._dict_keys(module, v, assigned, depth + 1)
                    if inner is None:
                        return None
                    keys |= inner
                elif isinstance(k, ast.Constant) and isinstance(k.value, str):
                    keys.add(k.value)
                else:
                    return None
            return keys
        if isinstance(node, ast.Name) and node.id in assigned:
            return self._dict_keys(module, assigned[node.id], assigned, depth + 1)
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            defs = self.functions.get(name, [])
            chosen = [d for m, d in defs if m == module] or [d for _, d in defs]
            returns = [n.value for n in ast.walk(chosen[0]) if isinstance(n, ast.Return) and n.value is not None] \
                if len(chosen) == 1 else []
            if len(returns) == 1:
                return self._dict_keys(module, returns[0], _assignments(chosen[0]), depth + 1)
        return None


def _param_prefix(key: ast.JoinedStr, param: str) -> str | None:
    """For f"<prefix>{param}" (or f"<prefix>{self.param}"): the prefix, else None."""
    values = key.values
    if len(values) == 2 and isinstance(values[0], ast.Constant) and isinstance(values[1], ast.FormattedValue):
        value = values[1].value
        if (value.id if isinstance(value, ast.Name) else getattr(value, "attr", None)) == param:
            return values[0].value
    return None


def _strings(node: ast.expr, assigned: dict[str, ast.expr], depth: int = 0) -> list[str] | None:
    """Every string ``node`` can be: a literal, ``a if c else b``, a local name bound to one, or an
    f-string of those; None when it cannot be known."""
    if depth > 5:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body, assigned, depth + 1), _strings(node.orelse, assigned, depth + 1)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.Name) and node.id in assigned:
        return _strings(assigned[node.id], assigned, depth + 1)
    if isinstance(node, ast.FormattedValue) and node.format_spec is None and node.conversion == -1:
        return _strings(node.value, assigned, depth + 1)
    if isinstance(node, ast.JoinedStr):
        out = [""]
        for part in node.values:
            options = _strings(part, assigned, depth + 1)
            if options is None:
                return None
            out = [a + b for a in out for b in options]
        return out
    return None


def _assignments(func: ast.FunctionDef) -> dict[str, ast.expr]:
    out = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = node.value
    return out


def _imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted origin for every import in the module (function-level ones too)."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                out[alias.asname or alias.name.split(".")[0]] = alias.name
    return out
