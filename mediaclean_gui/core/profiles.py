"""Layout profiles: load TOML files that map path patterns to artifact roles, and classify paths."""

from __future__ import annotations

import enum
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import platformdirs

from .errors import ConfigError, NotFound


class Role(str, enum.Enum):
    """What an artifact is for (SPEC section 1)."""

    FINAL = "final"
    THUMBNAIL = "thumbnail"
    INTERMEDIATE = "intermediate"
    SHARED_CACHE = "shared_cache"
    OUTPUT = "output"
    TEMP = "temp"
    SOURCE = "source"

    @property
    def protected(self) -> bool:
        """``final`` and ``thumbnail`` are never deleted by local cleanup (invariant 1)."""
        return self in (Role.FINAL, Role.THUMBNAIL)


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: The placeholders a path pattern may use (invariant 12: any other is an error naming the file and the key,
#: so a typo such as ``{projct}`` never silently matches every project's files). ``{project}`` is the
#: project's external id; ``{n}`` digits; the others capture one path component each.
PATTERN_PLACEHOLDERS = frozenset({"project", "provider", "video_id", "n", "ext", "job", "id", "name"})
#: What an S3 key template may use besides its pattern's own placeholders.
KEY_EXTRAS = frozenset({"project", "path", "name"})


@dataclass(frozen=True)
class ArtifactRule:
    """One ``[[artifact]]`` entry: a path pattern relative to the workspace root."""

    pattern: str
    role: Role
    rule: str
    key: str | None = None

    @property
    def is_folder(self) -> bool:
        """A pattern ending in ``/`` names a folder: it and everything inside it."""
        return self.pattern.endswith("/")

    def regex(self, project: str | None) -> re.Pattern[str]:
        return _compile(self.pattern, project)

    def static_prefix(self, project: str | None) -> str:
        """The leading folders of the pattern that hold no placeholder or wildcard."""
        parts = self.bind(project).rstrip("/").split("/")
        fixed: list[str] = []
        for part in parts if self.is_folder else parts[:-1]:
            if "{" in part or "*" in part or "?" in part:
                break
            fixed.append(part)
        return "/".join(fixed)

    def bind(self, project: str | None) -> str:
        return self.pattern.replace("{project}", project) if project is not None else self.pattern


#: What :meth:`Profile.classify` tries per rule: the rule's literal prefix, its compiled pattern, the rule, and
#: whether it is a folder pattern.
Matcher = tuple[str, re.Pattern[str], ArtifactRule, bool]


class Classified(NamedTuple):
    """The result of :meth:`Profile.classify`: which rule a path matched, and its placeholders.

    (A named tuple: made once per file a scan meets, so it has to be cheap.)
    """

    role: Role
    rule: ArtifactRule
    fields: dict[str, str]
    folder: str | None  # for folder patterns: the matched folder (relative path)


@dataclass(frozen=True)
class Profile:
    """A layout: roles by path pattern, the final-output template, S3 key templates."""

    name: str
    description: str
    seed: str
    source: str
    rules: tuple[ArtifactRule, ...]
    final: str | None = None
    pipeline: dict[str, str] = field(default_factory=dict)
    replaces_builtin: bool = False

    @property
    def uses_project(self) -> bool:
        return any("{project}" in r.pattern for r in self.rules)

    def ordered_rules(self) -> list[ArtifactRule]:
        """Protected roles first, then the file's order: a final is never shadowed."""
        return sorted(self.rules, key=lambda r: 0 if r.role.protected else 1)

    def _matchers(self, project: str | None) -> list[Matcher]:
        """``(literal prefix, compiled pattern, rule)`` in :meth:`ordered_rules` order, built once per
        project id. The prefix is the pattern's text before its first placeholder or wildcard: a path
        that does not start with it cannot match, and ``str.startswith`` is far cheaper than a regex."""
        cache: dict[str | None, list[Matcher]] = \
            self.__dict__.setdefault("_cache", {})
        found = cache.get(project)
        if found is None:
            if len(cache) > 256:
                cache.clear()
            found = cache[project] = [(_literal_prefix(rule.bind(project)), rule.regex(project), rule, rule.is_folder)
                                      for rule in self.ordered_rules()]
        return found

    def folder_matchers(self, folder: str) -> list[Matcher]:
        """The ``(literal prefix, compiled pattern, rule, is folder pattern)`` of :meth:`classify` (any project),
        in its order, that can match a file directly inside ``folder`` (relative POSIX, ``""``: the root):
        the first of them whose prefix starts the file's path and whose pattern matches it whole is the rule
        :meth:`classify` finds. Lets a scan try one or two rules per file instead of every one."""
        probe = f"{folder}/" if folder else ""
        return [m for m in self._matchers(None) if probe.startswith(m[0]) or m[0].startswith(probe)]

    def classify(self, relpath: str, project: str | None = None) -> Classified | None:
        """Classify a POSIX path relative to the workspace root, or ``None``.

        With ``project`` set, ``{project}`` matches only that id; otherwise any
        single path component (captured in ``fields["project"]``).
        """
        for prefix, regex, rule, is_folder in self._matchers(project):
            if not relpath.startswith(prefix):
                continue
            match = regex.fullmatch(relpath)
            if match:
                fields = {k: v for k, v in match.groupdict().items() if v is not None and k[0] != "_"}
                return Classified(rule.role, rule, fields, match.group("_folder") if is_folder else None)
        return None

    def covering_folder(self, dir_rel: str, project: str | None = None) -> Classified | None:
        """For a folder (relative POSIX path): when a folder pattern matches it and no rule tried
        before that one can match anything below it, the role and placeholders every path below
        it gets from :meth:`classify` (``folder`` is then this folder); else ``None``.

        Lets a scan classify a folder of thousands of frames once instead of file by file.
        """
        probe = dir_rel + "/"
        for prefix, regex, rule, is_folder in self._matchers(project):
            if not (probe.startswith(prefix) or prefix.startswith(probe)):
                continue  # this rule cannot match anything below the folder
            match = regex.fullmatch(dir_rel) if is_folder else None
            if match is None:
                return None  # a rule that comes first might match some path below: classify each
            fields = {k: v for k, v in match.groupdict().items() if v is not None and k[0] != "_"}
            return Classified(rule.role, rule, fields, dir_rel)
        return None

    def final_path(self, project: str | None) -> str | None:
        """The final output's path relative to the root, or ``None`` if the layout has none."""
        if self.final is None:
            return None
        if "{project}" in self.final and project is None:
            return None
        return self.final.replace("{project}", project or "")

    def walk_prefixes(self, project: str | None) -> list[str]:
        """Folders (relative, POSIX) that hold every path this profile can classify.

        Nested prefixes are merged; ``""`` means the whole root.
        """
        prefixes = sorted({r.static_prefix(project) for r in self.rules})
        merged: list[str] = []
        for prefix in prefixes:
            if any(prefix == m or prefix.startswith(m + "/") or m == "" for m in merged):
                continue
            merged.append(prefix)
        return merged


@lru_cache(maxsize=512)
def _compile(pattern: str, project: str | None) -> re.Pattern[str]:
    folder = pattern.endswith("/")
    body = pattern.rstrip("/")
    seen: set[str] = set()
    out: list[str] = []
    segments = body.split("/")
    for index, segment in enumerate(segments):
        if segment == "**":
            out.append(".*" if index == len(segments) - 1 else "(?:.*/)?")
            continue
        seg = ""
        pos = 0
        for m in _PLACEHOLDER.finditer(segment):
            seg += _glob(segment[pos : m.start()])
            name = m.group(1)
            if name == "project" and project is not None:
                seg += re.escape(project)
            elif name == "n":
                seg += r"(?P<n>\d+)" if "n" not in seen else r"\d+"
            elif name in seen:
                seg += r"[^/]+"
            else:
                seg += rf"(?P<{name}>[^/]+?)" if name != "project" else r"(?P<project>[^/]+)"
            seen.add(name)
            pos = m.end()
        seg += _glob(segment[pos:])
        out.append(seg + ("/" if index < len(segments) - 1 else ""))
    regex = "".join(out)
    if folder:
        regex = f"(?P<_folder>{regex})(?:/.*)?"
    return re.compile(regex, re.DOTALL)


def _literal_prefix(pattern: str) -> str:
    """The text of a (bound) pattern before its first ``{``, ``*`` or ``?``; a folder pattern's
    trailing ``/`` is dropped (the folder itself matches too)."""
    cut = min((i for i in (pattern.find("{"), pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
    prefix = pattern[:cut]
    return prefix[:-1] if cut == len(pattern) and prefix.endswith("/") else prefix


def _glob(text: str) -> str:
    return "".join("[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch) for ch in text)


# ---------------------------------------------------------------- loading


def user_profiles_dir() -> Path:
    """``platformdirs.user_config_dir("mediaclean")/profiles``: users' own ``*.toml`` layouts."""
    return Path(platformdirs.user_config_dir("mediaclean")) / "profiles"


def load_profile_file(path: Path) -> Profile:
    """Parse and check one profile file.

    Raises :class:`ConfigError` naming the file, the key and what is wrong.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Profile {path}: cannot be read ({exc.strerror}).") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Profile {path}: not valid TOML ({exc}).") from None
    return parse_profile(data, str(path))


def parse_profile(data: dict[str, Any], source: str) -> Profile:
    def bad(key: str, what: str) -> ConfigError:
        return ConfigError(f"Profile {source}: key '{key}' {what}.")

    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad("name", "is missing or not a string")
    entries = data.get("artifact")
    if not isinstance(entries, list) or not entries:
        raise bad("artifact", "must be a non-empty array of tables ([[artifact]])")
    rules = []
    for i, entry in enumerate(entries):
        where = f"artifact[{i}]"
        if not isinstance(entry, dict):
            raise bad(where, "must be a table")
        pattern = entry.get("pattern")
        if not isinstance(pattern, str) or not pattern or pattern.startswith("/"):
            raise bad(f"{where}.pattern", "must be a relative path pattern such as '.cache/audio/{project}/scene-{n}.mp3'")
        if ".." in pattern.split("/") or "." in pattern.rstrip("/").split("/"):
            raise bad(f"{where}.pattern", "must not contain '..' or '.' as a folder")
        used = set(_PLACEHOLDER.findall(pattern))
        unknown = sorted(used - PATTERN_PLACEHOLDERS)
        if unknown:
            raise bad(f"{where}.pattern", f"uses the unknown placeholder {{{unknown[0]}}} (known: "
                                          f"{', '.join('{' + p + '}' for p in sorted(PATTERN_PLACEHOLDERS))})")
        role_text = entry.get("role")
        try:
            role = Role(role_text)
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise bad(f"{where}.role", f"is {role_text!r}, which is not a role (one of {roles})") from None
        rule_text = entry.get("rule", f"{role.value} by pattern {pattern}")
        key = entry.get("key")
        if key is not None and not isinstance(key, str):
            raise bad(f"{where}.key", "must be a string (an S3 key template)")
        if key is not None:
            extra = sorted(set(_PLACEHOLDER.findall(key)) - used - KEY_EXTRAS)
            if extra:
                raise bad(f"{where}.key", f"uses the unknown placeholder {{{extra[0]}}}: its pattern does not "
                                          f"capture it (the key may use the pattern's placeholders, {{path}} and {{name}})")
        try:
            _compile(pattern, None)
        except re.error as exc:
            raise bad(f"{where}.pattern", f"is not a usable pattern ({exc})") from None
        rules.append(ArtifactRule(pattern, role, str(rule_text), key))
    final = data.get("final")
    if final is not None and not isinstance(final, str):
        raise bad("final", "must be a path template string")
    if final is not None:
        if not final or final.startswith("/") or final.endswith("/") or {".", ".."} & set(final.split("/")):
            raise bad("final", "must be a relative file path template such as '.cache/output/{project}/final.mp4'")
        extra = sorted(set(_PLACEHOLDER.findall(final)) - {"project"})
        if extra or "*" in final or "?" in final:
            raise bad("final", f"may use only the {{project}} placeholder, not "
                               f"{('{' + extra[0] + '}') if extra else 'wildcards'}")
        if not any(r.role is Role.FINAL and r.pattern == final for r in rules):
            # protected roles win (invariant 12): the final the profile names is a protected rule too
            rules.insert(0, ArtifactRule(final, Role.FINAL, "final output: never deleted"))
    replaces = data.get("replaces_builtin", False)
    if not isinstance(replaces, bool):
        raise bad("replaces_builtin", "must be true or false")
    pipeline = data.get("pipeline", {})
    if not isinstance(pipeline, dict) or not all(isinstance(v, str) for v in pipeline.values()):
        raise bad("pipeline", "must be a table of strings")
    return Profile(
        name=name.strip(),
        description=str(data.get("description", "")),
        seed=str(data.get("seed", "")),
        source=source,
        rules=tuple(rules),
        final=final,
        pipeline=dict(pipeline),
        replaces_builtin=replaces,
    )


@lru_cache(maxsize=1)
def builtin_profiles() -> dict[str, Profile]:
    """The profiles shipped in ``resources/profiles`` (parsed once per process)."""
    found: dict[str, Profile] = {}
    folder = Path(__file__).parent.parent / "resources" / "profiles"  # beside the package, in every install
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            profile = parse_profile(_loads(entry.read_text(encoding="utf-8"), entry.name), f"built-in {entry.name}")
            found[profile.name] = profile
    return found


def _loads(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Profile {source}: not valid TOML ({exc}).") from None


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What identifies the user folder's profile files now (name, size, mtime): a change reloads them."""
    out = []
    for path in sorted(folder.glob("*.toml")):
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((path.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


_user_cache: dict[str, tuple[tuple[tuple[str, int, int], ...], dict[str, Profile]]] = {}


def all_profiles(user_dir: Path | None = None) -> dict[str, Profile]:
    """Built-ins, then the user's profiles folder.

    A user profile may replace a built-in of the same name only when it says so with
    ``replaces_builtin = true`` (invariant 12); otherwise the clash is a :class:`ConfigError` naming
    the file. Files are re-read only when the folder's ``*.toml`` files change.
    """
    profiles = dict(builtin_profiles())
    folder = user_dir if user_dir is not None else user_profiles_dir()
    if not folder.is_dir():
        return profiles
    signature = _signature(folder)
    cached = _user_cache.get(str(folder))
    if cached is not None and cached[0] == signature:
        user = cached[1]
    else:
        user = {}
        for path in sorted(folder.glob("*.toml")):
            profile = load_profile_file(path)
            if profile.name in profiles and not profile.replaces_builtin:
                raise ConfigError(
                    f"Profile {path}: key 'name' is '{profile.name}', the name of a built-in profile. Give it "
                    f"another name, or add 'replaces_builtin = true' to replace the built-in on purpose.")
            if profile.name in user:
                raise ConfigError(f"Profile {path}: key 'name' is '{profile.name}', which "
                                  f"{user[profile.name].source} already uses. Give it another name.")
            user[profile.name] = profile
        _user_cache[str(folder)] = (signature, user)
    profiles.update(user)
    return profiles


def get_profile(name: str, user_dir: Path | None = None) -> Profile:
    """The profile called ``name``; :class:`NotFound` lists the known ones."""
    profiles = all_profiles(user_dir)
    try:
        return profiles[name]
    except KeyError:
        raise NotFound(f"No profile named '{name}'. Known profiles: {', '.join(sorted(profiles))}.") from None
