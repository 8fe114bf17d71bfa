#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_readme_examples.py TESTBED_DIR: the README's "Using floe" examples
run as written.

Takes the command lines of the fenced sh block under "## Using floe"
(continuation lines joined) and runs each with bash, as written, in a
folder that holds the test bed folder's entries (symlinks: outputs land
there, not in the shared test bed, and are fresh), with `floe` on PATH (a
temporary bin folder linking the build's floe), AWS_ENDPOINT_URL = the
stand-in, and mpirun allowed as root and oversubscribed. Each must exit 0
and write the outputs it names (NetCDF ones pass the CF rules). Examples
whose source cannot exist here are reported "skipped: <why>", not passed.
Prints "N passed, N failed" last.
"""

import os
import re
import shlex
import subprocess
import tempfile

import reference
from testlib import check, check_cf_output, run, summary

FLOE = os.environ.get("FLOE_BIN", os.path.join(reference.ROOT, "build", "floe"))
README = os.path.join(reference.ROOT, "README.md")


def readme_commands():
    """The command lines of the first sh block after "## Using floe"."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("\n## Using floe"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands, current = [], ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            commands.append(current.strip())
        current = ""
    return commands


def why_skipped(cmd, words, cwd):
    """The reason an example cannot run here, or None."""
    if words[0] == "export":
        return "sets the endpoint of a local stand-in; the test gives the running one's"
    for w in words:
        if "/lustre/" in w:
            return "reads a site's /lustre mirror"
    if "floe" in words:
        i = words.index("floe")
        source = words[i + 2] if len(words) > i + 2 else ""
        if source and "://" not in source and not os.path.exists(os.path.join(cwd, source)):
            return f"its source {source} does not exist here"
    return None


def main(tbdir):
    commands = readme_commands()
    check(len(commands) >= 10, f"README's Using floe block: {len(commands)} command lines")
    with tempfile.TemporaryDirectory() as tmp:
        work = os.path.join(tmp, "testbed")
        os.mkdir(work)
        for name in os.listdir(tbdir):
            os.symlink(os.path.join(tbdir, name), os.path.join(work, name))
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        os.symlink(os.path.abspath(FLOE), os.path.join(bindir, "floe"))
        env = dict(os.environ, AWS_ENDPOINT_URL=os.environ["FLOE_S3_ENDPOINT"],
                   PATH=bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                   OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                   OMPI_MCA_rmaps_base_oversubscribe="1")
        for cmd in commands:
            words = shlex.split(cmd, comments=True)
            reason = why_skipped(cmd, words, work)
            if reason:
                print(f"skipped: {cmd}: {reason}")
                continue
            r = subprocess.run(["bash", "-c", cmd], cwd=work, env=env, capture_output=True,
                               text=True, timeout=600)
            err = r.stderr.strip().splitlines()
            check(r.returncode == 0, f"{cmd}: exit {r.returncode}: {err[-1] if err else ''}")
            for i, w in enumerate(words):
                if w in ("-o", "--report") and i + 1 < len(words):
                    out = words[i + 1]
                    check(os.path.exists(os.path.join(work, out)), f"{cmd}: wrote {out}")
            if r.returncode == 0:
                check_cf_output(words, cwd=work)
            if words[:2] == ["floe", "inspect"]:
                check(r.stdout.strip() != "", f"{cmd}: printed something")
    return summary()


if __name__ == "__main__":
    run(main, __doc__)
