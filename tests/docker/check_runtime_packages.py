#!/usr/bin/python3
"""Fails when `scripts/install-deps --runtime` and the binary's shared libraries disagree.

  check_runtime_packages.py REPO_ROOT BINARY

The Docker image's runtime stage installs exactly that list; a library the binary needs and the
list lacks breaks the image at start, a library package it no longer needs only bloats it. Each
DT_NEEDED entry of BINARY is resolved (ldd) to a file and the file to its Debian package
(dpkg -S); that set must equal the list's library packages.
"""

import os
import re
import subprocess
import sys

# Listed for a reason other than a DT_NEEDED entry.
NOT_LIBRARIES = {
    "ca-certificates": "the system store that backends with tls = true and no tls_ca verify against",
}


def run(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def needed(binary):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", run("readelf", "-d", binary))


def resolved(binary):
    """soname -> path, for every library ldd finds (transitive ones too)."""
    paths = {}
    for line in run("ldd", binary).splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m:
            paths[m.group(1)] = m.group(2)
    return paths


def owner(path):
    """The package that ships `path`, trying the /usr-merged and unmerged spellings."""
    real = os.path.realpath(path)
    candidates = {path, real}
    for p in list(candidates):
        candidates.add(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for candidate in candidates:
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        for line in result.stdout.splitlines():
            package, _, file = line.partition(": ")
            if file.strip() == candidate:
                return package.split(":")[0]
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    root, binary = sys.argv[1:]
    listed = run(os.path.join(root, "scripts", "install-deps"), "--list-runtime").split()
    problems = []
    paths = resolved(binary)
    packages = {}
    for soname in needed(binary):
        if soname not in paths:
            problems.append(f"ldd does not resolve {soname}")
            continue
        package = owner(paths[soname])
        if package is None:
            problems.append(f"no Debian package ships {paths[soname]} ({soname})")
            continue
        packages.setdefault(package, []).append(soname)

    libraries = set(listed) - set(NOT_LIBRARIES)
    for package in sorted(set(packages) - libraries):
        problems.append(f"{package} ({', '.join(packages[package])}) is needed by the binary but not "
                        "in scripts/install-deps runtime_packages")
    for package in sorted(libraries - set(packages)):
        problems.append(f"{package} is in scripts/install-deps runtime_packages but the binary "
                        "links no library of it")
    for package in sorted(set(NOT_LIBRARIES) - set(listed)):
        problems.append(f"{package} is missing from runtime_packages: {NOT_LIBRARIES[package]}")
    for problem in problems:
        print("FAIL:", problem)
    if not problems:
        print("runtime packages:", " ".join(sorted(packages)), "+", " ".join(sorted(NOT_LIBRARIES)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
