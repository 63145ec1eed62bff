# SPDX-License-Identifier: GPL-2.0-or-later
"""Private D-Bus buses and the real Domus D-Bus programs for the dbus suite.

A "system" bus here is a dbus-daemon with the system bus's default policy (nobody may own
names or call methods unless a policy file allows it; signals are broadcast) plus the
policy file domus-dbusd installs; a "session" bus allows everything, like session.conf.
Neither has service directories, so nothing installed on the host gets activated.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def need_modules():
    try:
        import dbus  # noqa: F401
        import gi  # noqa: F401
        import pytest  # noqa: F401
    except ImportError as e:
        skip(f"python module missing: {e.name} (python3-dbus, python3-gi, python3-pytest)")
    if not shutil.which("dbus-daemon"):
        skip("dbus-daemon is not installed (package dbus)")


BUILD = os.environ.get("DOMUS_BUILD_ROOT", "")
SRC = os.environ.get("DOMUS_SOURCE_ROOT", "")
DBUSD = os.path.join(BUILD, "dbus-service", "domus-dbusd")
NOTIFY = os.path.join(BUILD, "dbus-service", "domus-notify")
POLICY = os.path.join(BUILD, "dbus-service", "data", "org.domus.libvirt.conf")
TEST_PATH = "/org/libvirt/Test"
SERVICE = "org.domus.libvirt"

SYSTEM_POLICY = """
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
"""

SESSION_POLICY = """
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
"""


class Bus:
    """A private dbus-daemon; kind is "system" or "session"."""

    def __init__(self, kind, workdir):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"{kind}-bus-", dir=workdir)
        os.chmod(self.dir, 0o755)  # other users (the policy test) reach the socket
        policy = SYSTEM_POLICY if kind == "system" else SESSION_POLICY
        include = ""
        if kind == "system":
            os.mkdir(os.path.join(self.dir, "system.d"))
            shutil.copy(POLICY, os.path.join(self.dir, "system.d"))
            include = f"<includedir>{self.dir}/system.d</includedir>"
        conf = os.path.join(self.dir, "bus.conf")
        with open(conf, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>{kind}</type>
  <listen>unix:path={self.dir}/socket</listen>
  <auth>EXTERNAL</auth>
  {policy}
  {include}
</busconfig>
""")
        self.proc = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork",
                                      "--print-address=1"], stdout=subprocess.PIPE, text=True)
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            raise RuntimeError(f"dbus-daemon ({kind}) did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class Proc:
    """A child process whose output goes to a log file kept for the test log."""

    def __init__(self, name, argv, env, workdir):
        self.name = name
        self.log = os.path.join(workdir, f"{name}.log")
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.logf, stderr=subprocess.STDOUT)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode

    def output(self):
        with open(self.log) as f:
            return f.read()


def wait_for(pred, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def name_has_owner(address, name):
    import dbus
    bus = dbus.bus.BusConnection(address)
    try:
        return bool(bus.name_has_owner(name))
    finally:
        bus.close()


class Env:
    """Buses plus the processes started on them; stop() tears everything down."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.system = Bus("system", workdir)
        self.session = Bus("session", workdir)
        self.procs = []

    def environ(self, **extra):
        env = dict(os.environ)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.system.address
        env["DBUS_SESSION_BUS_ADDRESS"] = self.session.address
        env["XDG_CONFIG_HOME"] = os.path.join(self.workdir, "config")  # no user config
        env.update(extra)
        return env

    def start(self, name, argv, **extra):
        p = Proc(name, argv, self.environ(**extra), self.workdir)
        self.procs.append(p)
        return p

    def start_service(self, bus="system", name=SERVICE, uri="test:///default",
                      path=TEST_PATH):
        p = self.start("domus-dbusd", [DBUSD, f"--{bus}", "--bus-name", name,
                                       "--connect", f"{uri}={path}"])
        address = self.system.address if bus == "system" else self.session.address
        wait_for(lambda: name_has_owner(address, name) or p.proc.poll() is not None,
                 what=f"domus-dbusd to own {name}")
        if p.proc.poll() is not None:
            raise RuntimeError(f"domus-dbusd exited: {p.output()}")
        return p

    def stop(self):
        for p in reversed(self.procs):
            p.stop()
            sys.stderr.write(f"---- {p.name} log ----\n{p.output()}")
        self.system.stop()
        self.session.stop()


class Libvirtd:
    """A real libvirtd in session mode as user nobody, with its own HOME and runtime
    directory: the test driver behind a socket, a daemon that can be killed and started
    again like virtdomusd. Needs root (to become nobody) and Debian's libvirt-daemon."""

    def __init__(self, env):
        if os.geteuid() != 0:
            skip("needs root to run libvirtd as another user")
        if not shutil.which("libvirtd", path="/usr/sbin:/usr/bin"):
            skip("libvirtd is not installed (package libvirt-daemon)")
        self.env = env
        self.base = tempfile.mkdtemp(prefix="libvirtd-", dir=env.workdir)
        os.chmod(self.base, 0o755)
        for d in ("home", "run"):
            os.mkdir(os.path.join(self.base, d), 0o700)
            os.chown(os.path.join(self.base, d), 65534, 65534)
        self.socket = os.path.join(self.base, "run", "libvirt", "libvirt-sock")
        self.uri = f"test+unix:///default?socket={self.socket}"
        self.proc = None

    def start(self):
        home = os.path.join(self.base, "home")
        env = {"HOME": home, "XDG_RUNTIME_DIR": os.path.join(self.base, "run"),
               "XDG_CONFIG_HOME": os.path.join(home, ".config"),
               "XDG_CACHE_HOME": os.path.join(home, ".cache"), "PATH": "/usr/sbin:/usr/bin"}
        self.proc = Proc("libvirtd", ["setpriv", "--reuid=65534", "--regid=65534",
                                      "--clear-groups", "libvirtd"], env, self.env.workdir)
        self.env.procs.append(self.proc)
        wait_for(lambda: os.path.exists(self.socket) or self.proc.proc.poll() is not None,
                 what="libvirtd's socket")
        if self.proc.proc.poll() is not None:
            raise RuntimeError(f"libvirtd exited: {self.proc.output()}")

    def stop(self):
        self.proc.stop()
        wait_for(lambda: not os.path.exists(self.socket), what="libvirtd's socket to go")


class FakeNotifications:
    """tests/dbus/fake-notifications: a real D-Bus server on the session bus that records
    every Notify call as a JSON line."""

    def __init__(self, env):
        self.path = os.path.join(env.workdir, f"notify-{time.monotonic_ns()}.jsonl")
        self.proc = env.start("fake-notifications",
                              [sys.executable, os.path.join(SRC, "tests", "dbus",
                                                            "fake-notifications"), self.path])
        wait_for(lambda: name_has_owner(env.session.address, "org.freedesktop.Notifications"),
                 what="the fake notification server")

    def calls(self):
        try:
            with open(self.path) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def wait_calls(self, n, timeout=2.0):
        return wait_for(lambda: len(self.calls()) >= n and self.calls(), timeout,
                        f"{n} Notify call(s)")

    def stop(self):
        self.proc.stop()
