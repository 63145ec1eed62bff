#!/usr/bin/python3
"""Debian's stock virt-manager connected to virtdomusd, under Xvfb, on the host.

  virt-manager-test.py --virtdomusd PATH --vmm PATH --schemas DIR --guest test-console.elf

The set-up of quick-test.py (e2elib.py: private sockets, python3-libvirt, a tiny ELF test
guest on the host's /dev/kvm). virt-manager --debug --no-fork runs under xvfb-run with the
serial console window of a running domain; its debug log must show the connection active,
both domains (running, shut off), the storage pool 'default' found (defined beforehand in
the scratch directory, so that virt-manager does not make /var/lib/libvirt/images), the
console stream it opened (which then holds the domain's console: another client's
non-forced open is refused), lifecycle events of a suspend and resume made by another
client, and no error and no traceback at all.
"""
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
from e2elib import E, cleanup, connect, expect_error, expect_event, fail, libvirt, ok, skip, \
    start_daemon, uri, work, xml  # noqa: E402

VIRT_MANAGER = shutil.which("virt-manager")
XVFB_RUN = shutil.which("xvfb-run")
if not VIRT_MANAGER or not XVFB_RUN or not shutil.which("xauth"):
    skip("no virt-manager, xvfb-run or xauth (Debian packages virt-manager, xvfb, xauth)")

libvirt.registerErrorHandler(lambda *a: None, None)   # errors are checked, not printed
start_daemon()
conn = connect()
print("1..4")

pool = conn.storagePoolDefineXML(f"""<pool type='dir'><name>default</name>
  <target><path>{work}/images</path></target></pool>""")
pool.build(0)
pool.create(0)
pool.setAutostart(1)
with open(f"{work}/images/vm1.img", "wb") as f:   # a volume for its storage poll to read
    f.truncate(1 << 20)
vm1 = conn.defineXML(xml("vm1"))
vm1.create()
expect_event("vm1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
conn.defineXML(xml("vm2"))
log_path = f"{work}/virt-manager.log"
home = f"{work}/home"
os.makedirs(home)
env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=f"{home}/.config",
           XDG_CACHE_HOME=f"{home}/.cache", XDG_RUNTIME_DIR=home, NO_AT_BRIDGE="1",
           GSETTINGS_BACKEND="memory")   # no dconf: there is no session bus
env.pop("DISPLAY", None)
env.pop("DBUS_SESSION_BUS_ADDRESS", None)
vmgr = subprocess.Popen([XVFB_RUN, "-a", VIRT_MANAGER, "--debug", "--no-fork",
                         "--connect", uri, "--show-domain-console", "vm1"],
                        stdout=subprocess.DEVNULL, stderr=open(log_path, "w"), env=env,
                        start_new_session=True)


def log():
    return open(log_path, errors="replace").read()


def stop_vmgr():
    if vmgr.poll() is None:
        os.killpg(vmgr.pid, signal.SIGTERM)
        try:
            vmgr.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(vmgr.pid, signal.SIGKILL)
            vmgr.wait()


atexit.register(stop_vmgr)   # also when a check fails (fail() exits)


def wait_log(pattern, what):
    end = time.monotonic() + 60
    while not re.search(pattern, log(), re.M):
        if vmgr.poll() is not None or time.monotonic() > end:
            tail = "\n# ".join(log().splitlines()[-15:])
            fail(f"no {what} in virt-manager's log (virt-manager "
                 f"{'exited ' + str(vmgr.returncode) if vmgr.poll() is not None else 'runs'});"
                 f" its end:\n# {tail}")
        time.sleep(0.1)


wait_log(r"conn=\S+ changed to state=Active$", "the connection")
wait_log(r"domain=vm1 status=Running added$", "vm1 listed")
wait_log(r"domain=vm2 status=Shutoff added$", "vm2 listed")
wait_log(rf"Found default pool name=default target={work}/images$", "the default pool")
ok("virt-manager connects (state Active), lists vm1 running and vm2 shut off, finds the "
   "default storage pool")

wait_log(r"Opening console stream for dev=", "the serial console")
expect_error(E.VIR_ERR_OPERATION_FAILED, vm1.openConsole, None, conn.newStream(0), 0,
             text="Active console session exists")
ok("virt-manager's console window holds vm1's serial console stream")

vm1.suspend()
expect_event("vm1", E.VIR_DOMAIN_EVENT_SUSPENDED, 0)
wait_log(r"domain lifecycle event: domain=vm1 state=VIR_DOMAIN_EVENT_SUSPENDED ",
         "the suspend event")
vm1.resume()
expect_event("vm1", E.VIR_DOMAIN_EVENT_RESUMED, 0)
wait_log(r"domain lifecycle event: domain=vm1 state=VIR_DOMAIN_EVENT_RESUMED ", "the resume event")
ok("virt-manager receives the lifecycle events of another client's suspend and resume")

stop_vmgr()
text = log()
errors = [line for line in text.splitlines() if re.search(r"\] (ERROR|CRITICAL) \(", line)]
if errors or "Traceback" in text:
    fail(f"virt-manager logged errors {errors} or a traceback: {text[text.find('Traceback'):]}")
ok("no errors and no tracebacks in virt-manager's debug log")

vm1.destroy()
for d in conn.listAllDomains():
    d.undefine()
pool.destroy()
pool.undefine()
cleanup()
