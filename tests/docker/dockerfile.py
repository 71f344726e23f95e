"""A reader of the subset of Dockerfile syntax docker/Dockerfile uses.

The checks under tests/docker/ and docker/verify-rootfs read the Dockerfile through this module,
so that what they check and replay is the file itself, not a copy of its steps that could drift.
It knows instructions, stages, line continuations, comments, and the shell and JSON (exec) forms;
it rejects what it does not know rather than guess (heredocs, ARG, ONBUILD...).
"""

import json
import re
import shlex
from dataclasses import dataclass, field

# The instructions docker/verify-rootfs replays or the checks read; anything else is an error.
KNOWN = {"FROM", "WORKDIR", "COPY", "RUN", "ENV", "USER", "EXPOSE", "STOPSIGNAL", "HEALTHCHECK",
         "ENTRYPOINT", "CMD", "LABEL"}


class DockerfileError(Exception):
    pass


@dataclass
class Instruction:
    keyword: str  # upper case
    args: str     # everything after the keyword, continuation lines joined
    line: int     # where it starts, 1-based


@dataclass
class Stage:
    base: str
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword):
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword):
        found = self.all(keyword)
        return found[-1] if found else None


def parse(text, path="Dockerfile"):
    """Returns the stages of a Dockerfile, in order."""
    stages = []
    pending, start = None, 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        # Comment and empty lines are dropped, even inside a continuation, as Docker does.
        if not stripped or stripped.startswith("#"):
            continue
        if pending is None:
            pending, start = "", number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        pending += stripped
        _add(stages, pending.strip(), start, path)
        pending = None
    if pending is not None:
        raise DockerfileError(f"{path}:{start}: the last instruction ends with a '\\'")
    if not stages:
        raise DockerfileError(f"{path}: no FROM")
    return stages


def _add(stages, text, line, path):
    keyword, _, args = text.partition(" ")
    keyword = keyword.upper()
    args = args.strip()
    if keyword not in KNOWN:
        raise DockerfileError(f"{path}:{line}: {keyword} is not supported here "
                              "(tests/docker/dockerfile.py)")
    if "<<" in args and keyword in ("RUN", "COPY"):
        raise DockerfileError(f"{path}:{line}: heredocs are not supported")
    if keyword == "FROM":
        m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args, re.IGNORECASE)
        if not m:
            raise DockerfileError(f"{path}:{line}: cannot read FROM {args}")
        stages.append(Stage(base=m.group(1), name=m.group(2), line=line))
        return
    if not stages:
        raise DockerfileError(f"{path}:{line}: {keyword} before FROM")
    stages[-1].instructions.append(Instruction(keyword, args, line))


def exec_form(args):
    """The argument vector of a JSON (exec) form, or of a shell form as /bin/sh -c would run it."""
    if args.startswith("["):
        value = json.loads(args)
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise DockerfileError(f"not a JSON array of strings: {args}")
        return value
    return ["/bin/sh", "-c", args]


def split_flags(args):
    """Splits leading --flag=value options (COPY --from=..., HEALTHCHECK --interval=...)."""
    flags = {}
    words = args.split()
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        flags[name] = value
    return flags, " ".join(words)


def copy_args(instruction):
    """(flags, sources, destination) of a COPY."""
    flags, rest = split_flags(instruction.args)
    words = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    if len(words) < 2:
        raise DockerfileError(f"line {instruction.line}: COPY needs a source and a destination")
    return flags, words[:-1], words[-1]


def env_pairs(instruction):
    """The KEY=VALUE pairs of an ENV (the old "ENV KEY VALUE" form too)."""
    words = shlex.split(instruction.args)
    if len(words) >= 2 and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise DockerfileError(f"line {instruction.line}: cannot read ENV {instruction.args}")
        pairs.append((key, value))
    return pairs


def healthcheck_command(instruction):
    """The argument vector a HEALTHCHECK runs (None for HEALTHCHECK NONE)."""
    _, rest = split_flags(instruction.args)
    if rest.upper() == "NONE":
        return None
    keyword, _, command = rest.partition(" ")
    if keyword.upper() != "CMD":
        raise DockerfileError(f"line {instruction.line}: HEALTHCHECK without CMD")
    return exec_form(command.strip())


def exposed_ports(stage):
    ports = set()
    for instruction in stage.all("EXPOSE"):
        for word in instruction.args.split():
            ports.add(int(word.split("/")[0]))
    return ports


def stage_named(stages, name):
    for index, stage in enumerate(stages):
        if stage.name == name or str(index) == name:
            return stage
    raise DockerfileError(f"no stage named {name}")
