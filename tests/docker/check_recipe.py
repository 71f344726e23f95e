#!/usr/bin/python3
"""Fails when the Docker image's build drifts from CI's: one recipe, not two.

  check_recipe.py REPO_ROOT

The image's build stage must install the build packages with `scripts/install-deps --build-only`
and build with `scripts/build release`, and do nothing else; CI (.ci/run -> scripts/test) must
build with `scripts/build release` too; the runtime stage must take its packages from
`install-deps --runtime` and the binary from where `scripts/build release` puts it.
"""

import os
import re
import sys

# The tests run from the source tree: write no __pycache__ into it.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dockerfile  # noqa: E402

BUILD_STEPS = ["scripts/install-deps --build-only", "scripts/build release"]
BASE = "debian:12-slim"


def shell_lines(path):
    """The lines of a shell script without comments."""
    with open(path) as f:
        return [line.split("#", 1)[0].strip() for line in f]


def check(root):
    problems = []
    path = os.path.join(root, "docker", "Dockerfile")
    with open(path) as f:
        stages = dockerfile.parse(f.read(), path)
    if len(stages) != 2:
        problems.append(f"docker/Dockerfile: expected a build and a runtime stage, found {len(stages)}")
        return problems
    build, runtime = stages
    for stage in stages:
        if stage.base != BASE:
            problems.append(f"docker/Dockerfile:{stage.line}: FROM {stage.base}, expected {BASE}")

    runs = [i.args for i in build.all("RUN")]
    if runs != BUILD_STEPS:
        problems.append(f"docker/Dockerfile: the build stage runs {runs}, expected exactly {BUILD_STEPS} "
                        "(the commands CI uses); change scripts/ instead of the Dockerfile")
    workdir = build.last("WORKDIR")
    if workdir is None:
        problems.append("docker/Dockerfile: the build stage has no WORKDIR")
        return problems

    # The binary must be the one `scripts/build release` produced: build/replproxy.
    binaries = [dockerfile.copy_args(i) for i in runtime.all("COPY")
                if dockerfile.split_flags(i.args)[0].get("from") == build.name]
    expected_binary = workdir.args.rstrip("/") + "/build/replproxy"
    if [sources for _, sources, _ in binaries] != [[expected_binary]]:
        problems.append(f"docker/Dockerfile: the runtime stage must copy exactly {expected_binary} "
                        f"from the build stage, copies {[s for _, s, _ in binaries]}")
    with open(os.path.join(root, "scripts", "build")) as f:
        if not re.search(r"^\s*release\)\s*\n\s*dir=build\s*$", f.read(), re.MULTILINE):
            problems.append("scripts/build: the release flavour no longer builds in build/")

    # The runtime packages come from install-deps --runtime, copied from the repository.
    copied = {dest: sources for flags, sources, dest in map(dockerfile.copy_args, runtime.all("COPY"))
              if "from" not in flags}
    runtime_runs = [i.args for i in runtime.all("RUN")]
    first_words = [run.split()[:2] for run in runtime_runs]
    installers = [words[0] for words in first_words if words[1:] == ["--runtime"]]
    if len(installers) != 1 or copied.get(installers[0]) != ["scripts/install-deps"]:
        problems.append("docker/Dockerfile: the runtime stage must run a copy of scripts/install-deps "
                        f"with --runtime first thing in a RUN; RUN lines: {runtime_runs}")

    # CI: .ci/run runs scripts/test, which builds with scripts/build release.
    if "exec scripts/test" not in shell_lines(os.path.join(root, ".ci", "run")):
        problems.append(".ci/run no longer runs `exec scripts/test`")
    test_lines = shell_lines(os.path.join(root, "scripts", "test"))
    if not any(re.match(r"scripts/build release(\s|$)", line) for line in test_lines):
        problems.append("scripts/test no longer builds with `scripts/build release`")
    if not any(re.match(r"scripts/install-deps(\s|$)", line) for line in test_lines):
        problems.append("scripts/test no longer installs its packages with scripts/install-deps")
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = check(sys.argv[1])
    for problem in problems:
        print("FAIL:", problem)
    if not problems:
        print("docker recipe: the image builds as CI does (install-deps --build-only, build release)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
