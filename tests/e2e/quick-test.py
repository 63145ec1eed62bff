#!/usr/bin/python3
"""virtdomusd's libxc backend on the host, with a tiny guest instead of a Linux kernel.

  quick-test.py --virtdomusd PATH --vmm PATH --schemas DIR --guest test-control-guest.elf

Seconds, not minutes, and no sandbox: the guest is the tiny ELF test guest of tests/kvm
(test-control-guest.elf, which runs on any /dev/kvm and powers off on the ACPI power
button). virtdomusd serves private sockets; python3-libvirt drives it: define, start,
events (virEventRegisterDefaultImpl), states and reasons, suspend/resume, live XML (pty),
vCPU pinning, console sessions (a second refused, FORCE takes over), a transient domain,
the daemon SIGKILLed and restarted with two domains running (both found again), a killed
VMM with on_crash=preserve, ACPI shutdown, autostart at daemon start, undefine.
The suite's domain XML is ordinary: nothing test-only (an ELF kernel is what libxc boots
for tiny guests).
"""
import os
import signal
import sys

sys.dont_write_bytecode = True  # nothing written into the source tree
from e2elib import E, connect, expect_error, expect_event, fail, ok, start_daemon, until, \
    vmm_pid, work, xml  # noqa: E402
import e2elib  # noqa: E402

print("1..11")
start_daemon()
conn = connect()

dom = conn.defineXML(xml("q1"))
expect_event("q1", E.VIR_DOMAIN_EVENT_DEFINED, 0)
dom.create()
expect_event("q1", E.VIR_DOMAIN_EVENT_STARTED, 0)
if dom.state() != [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_BOOTED] or dom.ID() <= 0:
    fail(f"state after start: {dom.state()}")
if "<source path=\"/dev/pts/" not in dom.XMLDesc(0):
    fail("no pty in the live XML")
expect_error(E.VIR_ERR_OPERATION_INVALID, dom.create)
# virsh define --validate: the flag is taken, and a construct outside our schema is named.
bad = xml("qbad").replace("<devices>", "<devices><hostdev mode='subsystem' type='pci'/>")
expect_error(E.VIR_ERR_CONFIG_UNSUPPORTED, conn.defineXMLFlags, bad,
             E.VIR_DOMAIN_DEFINE_VALIDATE, text="unsupported element <hostdev>")
ok("define, start: running (booted), live XML with the pty, a second start refused; "
   "define --validate names what it refuses")

dom.suspend()
expect_event("q1", E.VIR_DOMAIN_EVENT_SUSPENDED, 0)
dom.resume()
expect_event("q1", E.VIR_DOMAIN_EVENT_RESUMED, 0)
if dom.state() != [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_UNPAUSED]:
    fail(f"state after resume: {dom.state()}")
ok("suspend, resume: events and reasons")

ncpu = conn.getInfo()[2]
dom.pinVcpu(1, tuple(i == 0 for i in range(ncpu)))
if dom.vcpuPinInfo(0)[1] != tuple(i == 0 for i in range(ncpu)) or len(dom.vcpus()[0]) != 2:
    fail(f"vcpuPinInfo {dom.vcpuPinInfo(0)}")
ok("vcpus, pinVcpu, vcpuPinInfo")

st = conn.newStream(0)
dom.openConsole(None, st, 0)
expect_error(E.VIR_ERR_OPERATION_FAILED, dom.openConsole, None, conn.newStream(0), 0)
dom.openConsole(None, conn.newStream(0), E.VIR_DOMAIN_CONSOLE_FORCE)
ok("console: a second session refused, FORCE takes over")

tr = conn.createXML(xml("q2", "<on_crash>preserve</on_crash>"), 0)
expect_event("q2", E.VIR_DOMAIN_EVENT_STARTED, 0)
if tr.isPersistent():
    fail("createXML made a persistent domain")
ids = {"q1": dom.ID(), "q2": tr.ID()}
ok("createXML: a transient domain")

e2elib.daemon.kill()
e2elib.daemon.wait()
start_daemon()
conn = connect()
running = {d.name(): d.ID() for d in conn.listAllDomains(E.VIR_CONNECT_LIST_DOMAINS_ACTIVE)}
if running != ids:
    fail(f"after the daemon's restart: {running}, expected {ids}")
tr = conn.lookupByName("q2")
tr.suspend()
expect_event("q2", E.VIR_DOMAIN_EVENT_SUSPENDED, 0)
tr.resume()
ok("daemon SIGKILLed and restarted: both domains found again, same ids, controllable")

pid = vmm_pid(ids["q2"])
os.kill(pid, signal.SIGKILL)
expect_event("q2", E.VIR_DOMAIN_EVENT_CRASHED, 0)
if tr.state() != [E.VIR_DOMAIN_CRASHED, E.VIR_DOMAIN_CRASHED_PANICKED]:
    fail(f"state of the killed domain: {tr.state()}")
tr.destroy()
expect_event("q2", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
expect_error(E.VIR_ERR_NO_DOMAIN, conn.lookupByName, "q2")
ok("a killed VMM with on_crash=preserve: crashed (panicked) until destroyed, then gone")

q3 = conn.createXML(xml("q3"), 0)
q3id = q3.ID()
e2elib.daemon.kill()
e2elib.daemon.wait()
pid = vmm_pid(q3id)
os.kill(pid, signal.SIGKILL)
until(lambda: not os.path.exists(f"/proc/{pid}"), 10, "the VMM's death")
start_daemon()
conn = connect()
until(lambda: not os.path.exists(f"{work}/run/{q3id}"), 10, "the ended domain's cleanup")
expect_error(E.VIR_ERR_NO_DOMAIN, conn.lookupByName, "q3")
if not conn.lookupByName("q1").isActive():
    fail("q1 is not running after the second restart")
ok("a domain that crashed while the daemon was down: found ended, on_crash=destroy applied")

dom = conn.lookupByName("q1")
dom.shutdown()
expect_event("q1", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)
if dom.state() != [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_SHUTDOWN]:
    fail(f"state after shutdown: {dom.state()}")
if [f for f in os.listdir(f"{work}/run/virtdomusd") if f.endswith(".xml")] or os.path.exists(
        f"{work}/run/{ids['q1']}"):
    fail(f"left behind: {os.listdir(f'{work}/run/virtdomusd')}")
ok("ACPI shutdown: the guest powered off, shut off (shutdown), status file and registry gone")

dom.setAutostart(1)
e2elib.daemon.send_signal(signal.SIGTERM)
if e2elib.daemon.wait(10) != 0:
    fail("virtdomusd did not exit 0 on SIGTERM")
start_daemon()
conn = connect()
until(lambda: conn.lookupByName("q1").isActive(), 10, "autostart")
ok("autostart at daemon start")

dom = conn.lookupByName("q1")
dom.destroy()
dom.setAutostart(0)
dom.undefine()
if conn.listAllDomains() or os.listdir(f"{work}/defs/autostart"):
    fail("domains or autostart links left")
ok("destroy, undefine")
e2elib.daemon.send_signal(signal.SIGTERM)
e2elib.daemon.wait(10)
e2elib.cleanup()
