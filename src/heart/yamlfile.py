"""Read YAML while remembering where each value came from, for errors that name file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class YamlFileError(ValueError):
    """A YAML file that cannot be used; the message names the file, the line and why."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = str(path)
        self.line = line
        self.reason = reason


class LocatedYaml:
    """A parsed document plus a way to find the line of any value by its path."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        try:
            self.node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data: Any = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            raise YamlFileError(path, mark.line + 1 if mark else None, f"not valid YAML ({error})") from None

    def line_of(self, location: tuple[int | str, ...]) -> int | None:
        """1-based line of the value at ``location`` (keys and list indexes), or of its nearest parent."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else None
        for step in location:
            child = _child(node, step)
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line

    def line_of_key(self, location: tuple[int | str, ...]) -> int | None:
        """1-based line of the last key of ``location`` itself (``case_programs: {OSX: …}`` → the line of ``OSX:``),
        or of the value when the key cannot be found."""
        parent = self.node
        for step in location[:-1]:
            parent = _child(parent, step)
            if parent is None:
                return self.line_of(location)
        if isinstance(parent, yaml.MappingNode):
            for key, _ in parent.value:
                if key.value == str(location[-1]):
                    return int(key.start_mark.line) + 1
        return self.line_of(location)

    def error(self, location: tuple[int | str, ...], reason: str) -> YamlFileError:
        return YamlFileError(self.path, self.line_of(location), reason)


def _child(node: Any, step: int | str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(step):
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return node.value[step]
    return None


def read_yaml(path: Path) -> LocatedYaml:
    """Parse ``path``; a missing or malformed file raises YamlFileError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise YamlFileError(path, None, f"cannot be read ({error.strerror})") from None
    return LocatedYaml(path, text)
