#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""libvirt-dbus's own upstream test suite (v1.4.1) against domus-dbusd.

The suite comes from Debian's source package (libvirt-dbus_1.4.1.orig.tar.xz in the
deb.debian.org pool), checked against its known SHA-256 and cached under the build
directory; nothing of it is kept in the Domus tree. Its harness starts "libvirt-dbus
--session" for every test; here that is a wrapper running domus-dbusd owning org.libvirt
and serving test:///default at /org/libvirt/Test, exactly what the suite expects.

Usage: conformance.py CACHE_DIR     (exit 77 with the reason if the suite cannot be had)
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import xml.etree.ElementTree as ET

VERSION = "1.4.1"
TARBALL = f"libvirt-dbus_{VERSION}.orig.tar.xz"
URL = f"http://deb.debian.org/debian/pool/main/libv/libvirt-dbus/{TARBALL}"
SHA256 = "101ca3d018e7fdb8a5ab4482debb7cb0d181743beea2d20f3998b18e107d84e1"
FILES = ["test_connect.py", "test_domain.py", "test_snapshot.py", "test_interface.py",
         "test_network.py", "test_nodedev.py", "test_storage.py"]


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(77)


def fetch(cache):
    path = os.path.join(cache, TARBALL)
    if os.path.exists(path) and sha256(path) == SHA256:
        return path
    os.makedirs(cache, exist_ok=True)
    try:
        with urllib.request.urlopen(URL, timeout=60) as r, open(path + ".part", "wb") as f:
            shutil.copyfileobj(r, f)
    except OSError as e:
        skip(f"cannot fetch the upstream suite from {URL}: {e}")
    got = sha256(path + ".part")
    if got != SHA256:
        print(f"FAIL: {URL} has SHA-256 {got}, expected {SHA256}")
        sys.exit(1)
    os.replace(path + ".part", path)
    return path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def unpack(tarball, cache):
    tests = os.path.join(cache, f"libvirt-dbus-{VERSION}", "tests")
    shutil.rmtree(tests, ignore_errors=True)
    with tarfile.open(tarball) as t:
        members = [m for m in t.getmembers()
                   if m.name.startswith(f"libvirt-dbus-{VERSION}/tests/") and m.isfile()]
        t.extractall(cache, members=members)
    return tests


def wrapper(cache):
    """abs_top_builddir/src/libvirt-dbus, the program the suite starts for every test."""
    build = os.environ["DOMUS_BUILD_ROOT"]
    root = os.path.join(cache, "root")
    os.makedirs(os.path.join(root, "src"), exist_ok=True)
    exe = os.path.join(root, "src", "libvirt-dbus")
    with open(exe, "w") as f:
        f.write(f"""#!/bin/sh
exec {build}/dbus-service/domus-dbusd --bus-name org.libvirt \\
	--connect test:///default=/org/libvirt/Test "$@"
""")
    os.chmod(exe, 0o755)
    return root


def report(junit):
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    total = int(suite.get("tests"))
    bad = int(suite.get("failures")) + int(suite.get("errors"))
    skipped = int(suite.get("skipped"))
    print(f"libvirt-dbus {VERSION} upstream suite: {total - bad - skipped} passed of {total}"
          f" ({bad} failed, {skipped} skipped)")
    return bad


def main():
    for mod in ("pytest", "dbus", "gi"):
        try:
            __import__(mod)
        except ImportError:
            skip(f"python module {mod} missing (python3-pytest, python3-dbus, python3-gi)")
    if not shutil.which("dbus-daemon"):
        skip("dbus-daemon is not installed (package dbus)")
    cache = os.path.abspath(sys.argv[1])
    tests = unpack(fetch(cache), cache)
    env = dict(os.environ, abs_top_builddir=wrapper(cache), PYTHONDONTWRITEBYTECODE="1",
               XDG_CONFIG_HOME=os.path.join(cache, "config"))
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # the suite starts its own bus
    junit = os.path.join(cache, "results.xml")
    rc = subprocess.call([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v",
                          f"--junit-xml={junit}", *FILES], cwd=tests, env=env)
    if not os.path.exists(junit):
        print(f"FAIL: pytest exited {rc} without results")
        return 1
    return 1 if report(junit) or rc else 0


if __name__ == "__main__":
    sys.exit(main())
