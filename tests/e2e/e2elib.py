# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared set-up of the host e2e tests (quick-test.py, save-test.py).

virtdomusd on private sockets in a scratch directory, the tiny ELF test guest of tests/kvm
as the domains' kernel, python3-libvirt with the default event loop, and TAP helpers: ok(),
fail() (with the daemon's log), until(). Each test keeps its own assertions; this module
only starts, connects, waits and cleans up.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--virtdomusd", required=True)
ap.add_argument("--vmm", required=True)
ap.add_argument("--schemas", required=True)
ap.add_argument("--guest", required=True)
args = ap.parse_args()
args.guest = os.path.abspath(args.guest)


def skip(why):
    print(f"1..0 # SKIP {why}")
    sys.exit(77)


try:
    import libvirt
except ImportError:
    skip("no python3-libvirt")
if os.geteuid() != 0:
    skip("needs root (the domains' cgroups and /dev/kvm)")
if not os.access("/dev/kvm", os.R_OK | os.W_OK):
    skip("no /dev/kvm")

E = libvirt
work = tempfile.mkdtemp(prefix=os.path.basename(sys.argv[0]).removesuffix(".py") + ".")
sock = f"{work}/virtdomusd-sock"
uri = f"domus+unix:///system?socket={sock}"
env = dict(os.environ, DOMUS_RUN_DIR=f"{work}/run", DOMUS_VMM=args.vmm,
           DOMUS_SCHEMA_DIR=args.schemas)
os.makedirs(f"{work}/defs")
with open(f"{work}/conf", "w") as f:
    f.write(f"[virtdomusd]\ndomain_dir = {work}/defs\n")
daemon = None
ntest = 0
events = []     # (domain name, event, detail) of every lifecycle event, in order


def start_daemon():
    """Start virtdomusd and wait for its socket (a killed daemon's is removed first)."""
    global daemon
    if os.path.exists(sock):
        os.unlink(sock)
    daemon = subprocess.Popen([args.virtdomusd, "--system", "--verbose", "--socket-dir", work,
                               "--pidfile", f"{work}/pid", "--config", f"{work}/conf"],
                              stdout=subprocess.DEVNULL,
                              stderr=open(f"{work}/daemon.log", "a"), env=env)
    until(lambda: os.path.exists(sock) or daemon.poll() is not None, 10, "the socket")
    if daemon.poll() is not None:
        fail("virtdomusd exited at start")


def vmm_pid(domid):
    """The pid of a running domain's VMM, from virtdomusd's status record."""
    return int([line for line in open(f"{work}/run/{domid}/domain")
                if line.startswith("pid=")][0][4:])


def cleanup():
    """Kill every VMM still recorded, then the daemon; remove the scratch directory."""
    for rec in (os.listdir(f"{work}/run") if os.path.isdir(f"{work}/run") else []):
        try:
            os.kill(vmm_pid(rec), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass
    if daemon and daemon.poll() is None:
        daemon.kill()
    shutil.rmtree(work, ignore_errors=True)


def fail(msg):
    print(f"not ok {ntest + 1} - {msg}")
    print("# daemon log:")
    if os.path.exists(f"{work}/daemon.log"):
        for line in open(f"{work}/daemon.log").readlines()[-30:]:
            print("# " + line.rstrip())
    cleanup()
    sys.exit(1)


def ok(what):
    global ntest
    ntest += 1
    print(f"ok {ntest} - {what}", flush=True)


def until(cond, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    fail(f"timed out waiting for {what}")


def xml(name, extra="", mem_mib=32):
    """An ordinary domain XML booting the tiny test guest (an ELF kernel)."""
    return f"""<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>{mem_mib}</memory>
  <vcpu>2</vcpu>
  <os><type>hvm</type><kernel>{args.guest}</kernel></os>
  <features><acpi/></features>
  {extra}
  <devices><serial type='pty'/><memballoon model='none'/></devices>
</domain>"""


def connect():
    """A connection to the daemon whose lifecycle events are appended to events."""
    c = libvirt.open(uri)
    c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                             lambda c, d, e, det, o: events.append((d.name(), e, det)), None)
    return c


def expect_event(name, event, detail):
    """Wait for the event and consume it, so that expecting it again needs a new one."""
    until(lambda: (name, event, detail) in events, 20, f"event {event}/{detail} of {name}")
    events.remove((name, event, detail))


def expect_error(code, fn, *a, text=""):
    """fn(*a) must fail with libvirt error code and a message containing text."""
    try:
        fn(*a)
    except libvirt.libvirtError as e:
        if e.get_error_code() != code or text not in str(e):
            fail(f"{fn.__name__}: code {e.get_error_code()} ({e}), expected {code} '{text}'")
        return
    fail(f"{fn.__name__} succeeded")


def excepthook(kind, value, tb):
    import traceback
    traceback.print_exception(kind, value, tb)
    fail(f"{kind.__name__}: {value}")


sys.excepthook = excepthook
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
