#!/usr/bin/python3
"""virsh save / restore / managedsave through virtdomusd on the host, with a tiny guest.

  save-test.py --virtdomusd PATH --vmm PATH --schemas DIR --guest test-control-guest.elf

The same set-up as quick-test.py, shared in e2elib.py (private sockets, python3-libvirt,
the tiny ELF test guest of tests/kvm on the host's /dev/kvm): save and restore with their lifecycle events and
state reasons, a save taken paused comes back paused, save-image-dumpxml, foreign,
truncated and corrupted images refused with libvirt errors, managed save (flag in listings,
start resumes from it and consumes it, managedsave-remove, start --force-boot), a transient
domain saved and restored, job info from a second connection while a save runs, and an
abort with no job. It also runs the stock virsh for save/restore/dominfo.
"""
import os
import stat
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
from e2elib import E, cleanup, connect, expect_error, expect_event, fail, libvirt, ok, \
    start_daemon, until, uri, work, xml  # noqa: E402


def virsh(*a):
    r = subprocess.run(["virsh", "-c", uri, *a], capture_output=True, text=True, timeout=60)
    if r.returncode:
        fail(f"virsh {' '.join(a)}: {r.stderr.strip()}")
    return r.stdout


start_daemon()
conn = connect()
print("1..12")

dom = conn.defineXML(xml("s1"))
dom.create()
expect_event("s1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
img = f"{work}/s1.save"
dom.save(img)
expect_event("s1", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SAVED)
if dom.state() != [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_SAVED] or dom.isActive():
    fail(f"state after save: {dom.state()}")
if os.stat(img).st_mode & 0o077:
    fail("the save image is readable by others")
saved_xml = conn.saveImageGetXMLDesc(img, 0)
if "<name>s1</name>" not in saved_xml or dom.UUIDString() not in saved_xml:
    fail(f"save-image XML: {saved_xml}")
ok("save: stopped (saved) event and state, image 0600, save-image XML names the domain")

conn.restore(img)
expect_event("s1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_RESTORED)
if dom.state() != [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_RESTORED] or \
        conn.lookupByName("s1").ID() <= 0:
    fail(f"state after restore: {dom.state()}")
expect_error(E.VIR_ERR_OPERATION_INVALID, conn.restore, img, text="already running")
dom.suspend()
dom.resume()
ok("restore: started (restored), running (restored), controllable; a second restore refused")

dom.suspend()
dom.saveFlags(img, None, 0)
expect_event("s1", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SAVED)
conn.restore(img)
expect_event("s1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_RESTORED)
if dom.state()[0] != E.VIR_DOMAIN_PAUSED:
    fail(f"a paused save restored as {dom.state()}")
expect_event("s1", E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_RESTORED)
dom.resume()
dom.save(img)
conn.restoreFlags(img, None, E.VIR_DOMAIN_SAVE_PAUSED)
if dom.state()[0] != E.VIR_DOMAIN_PAUSED:
    fail(f"restore --paused gave {dom.state()}")
dom.resume()
ok("a paused domain's image restores paused; restore --paused")

with open(f"{work}/foreign", "wb") as f:
    f.write(os.urandom(100000))
expect_error(E.VIR_ERR_OPERATION_INVALID, conn.restore, f"{work}/foreign",
             text="not a Domus domain save image")
dom.save(img)
data = open(img, "rb").read()
with open(f"{work}/trunc", "wb") as f:
    f.write(data[:len(data) // 2] + data[-72:])
expect_error(E.VIR_ERR_OPERATION_INVALID, conn.restore, f"{work}/trunc", text="do not add up")
bad = bytearray(data)
bad[data.index(b"<name>s1") + 1] ^= 1
with open(f"{work}/bad", "wb") as f:
    f.write(bad)
expect_error(E.VIR_ERR_OPERATION_INVALID, conn.restore, f"{work}/bad", text="checksum")
expect_error(E.VIR_ERR_SYSTEM_ERROR, conn.restore, f"{work}/none", text="No such file")
expect_error(E.VIR_ERR_OPERATION_INVALID, dom.save, img, text="not running")
conn.restore(img)
expect_error(E.VIR_ERR_SYSTEM_ERROR, dom.save, f"{work}/no/such/dir",
             text="cannot create the save image")
if dom.state()[0] != E.VIR_DOMAIN_RUNNING:
    fail(f"a refused save stopped the domain: {dom.state()}")
dom.destroy()
conn.restore(img)
expect_event("s1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_RESTORED)
ok("foreign, truncated and corrupt images refused with clear errors, so is an unwritable "
   "path (the domain runs on); the good one restores")

dom.managedSave(0)
expect_event("s1", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SAVED)
if not dom.hasManagedSaveImage(0):
    fail("no managed save image after managedsave")
listed = [d.name() for d in conn.listAllDomains(E.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE)]
if listed != ["s1"]:
    fail(f"list --managed-save: {listed}")
if "Managed save:   yes" not in virsh("dominfo", "s1"):
    fail("dominfo does not say Managed save: yes")
dom.create()
expect_event("s1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_RESTORED)
if dom.state() != [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_RESTORED] or \
        dom.hasManagedSaveImage(0):
    fail(f"start after managedsave: {dom.state()}, image {dom.hasManagedSaveImage(0)}")
ok("managedsave: flag, listing, dominfo; start resumes from it and consumes the image")

dom.managedSave(0)
dom.managedSaveRemove(0)
if dom.hasManagedSaveImage(0):
    fail("managedsave-remove left the image")
dom.create()
expect_event("s1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
dom.managedSave(0)
expect_event("s1", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SAVED)
dom.createWithFlags(E.VIR_DOMAIN_START_FORCE_BOOT)
expect_event("s1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
if dom.state() != [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_BOOTED]:
    fail(f"start --force-boot: {dom.state()}")
if dom.hasManagedSaveImage(0) or os.path.exists(f"{work}/defs/save/s1.save"):
    fail("start --force-boot kept the managed save image")
dom.managedSave(0)
expect_error(E.VIR_ERR_OPERATION_INVALID, dom.undefine, text="managed save image exists")
virsh("undefine", "s1", "--managed-save")
if os.path.exists(f"{work}/defs/save/s1.save"):
    fail("undefine --managed-save left the image")
dom = conn.defineXML(xml("s1"))
dom.create()
expect_event("s1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
ok("managedsave-remove: the next start boots afresh; so does start --force-boot; "
   "undefine refused with an image, "
   "undefine --managed-save removes it")

tr = conn.createXML(xml("t1"), 0)
tr.save(f"{work}/t1.save")
until(lambda: "t1" not in [d.name() for d in conn.listAllDomains(0)], 10, "t1 to go")
conn.restore(f"{work}/t1.save")
tr = conn.lookupByName("t1")
if tr.isPersistent() or not tr.isActive():
    fail("the restored transient domain")
expect_error(E.VIR_ERR_OPERATION_INVALID, tr.managedSave, 0, text="transient")
tr.destroy()
ok("a transient domain: gone after save, back (transient) after restore; no managedsave")

big = conn.defineXML(xml("big", mem_mib=1024))
big.create()
c2 = libvirt.open(uri)
seen = []
stop = threading.Event()


def poll():
    d2 = c2.lookupByName("big")
    while not stop.is_set():
        try:
            seen.append(d2.jobInfo())
        except libvirt.libvirtError as e:
            seen.append(str(e))


t = threading.Thread(target=poll)
t.start()
time.sleep(0.2)
big.save(f"{work}/big.save")
stop.set()
t.join()
bad = [s for s in seen if isinstance(s, str) and "not running" not in s]
if not seen or bad:
    fail(f"job info during the save: {len(seen)} answers, failed: {bad[:3]}")
if not any(isinstance(s, list) and s[0] == E.VIR_DOMAIN_JOB_UNBOUNDED for s in seen):
    print(f"# no running job caught by {len(seen)} polls (the save was too quick)")
expect_error(E.VIR_ERR_OPERATION_INVALID, c2.lookupByName("big").abortJob, text="not running")
expect_error(E.VIR_ERR_OPERATION_INVALID, c2.lookupByName("s1").abortJob,
             text="no job is active")
ok(f"job info from a second connection during a save ({len(seen)} answers, none failed)")

# A save into a FIFO drained at 10 KB/s stays in progress for seconds: domjobinfo and
# domjobabort from other clients see and cancel it, and the domain runs on.
fifo = f"{work}/fifo"
os.mkfifo(fifo)


def drain():
    fd = os.open(fifo, os.O_RDONLY)
    while os.read(fd, 1024):
        time.sleep(0.1)
    os.close(fd)


threading.Thread(target=drain, daemon=True).start()
result = []


def bg_save():
    try:
        conn.lookupByName("s1").save(fifo)
        result.append("saved")
    except libvirt.libvirtError as e:
        result.append(str(e))


saver = threading.Thread(target=bg_save)
saver.start()
d2 = c2.lookupByName("s1")
until(lambda: d2.jobInfo()[0] == E.VIR_DOMAIN_JOB_UNBOUNDED, 20, "the save job")
info = virsh("domjobinfo", "s1")
if "Unbounded" not in info:
    fail(f"virsh domjobinfo during the save: {info}")
virsh("domjobabort", "s1")
saver.join(30)
if saver.is_alive() or not result or "aborted" not in result[0]:
    fail(f"the aborted save: {result}")
if dom.state()[0] != E.VIR_DOMAIN_RUNNING or d2.jobInfo()[0] != E.VIR_DOMAIN_JOB_NONE:
    fail(f"after the aborted save: {dom.state()}")
done = d2.jobStats(E.VIR_DOMAIN_JOB_STATS_COMPLETED)
if done.get("type") != E.VIR_DOMAIN_JOB_CANCELLED or done.get("success") is not False or \
        "cancelled" not in done.get("errmsg", "") or \
        done.get("operation") != E.VIR_DOMAIN_JOB_OPERATION_SAVE:
    fail(f"the aborted save's completed-job statistics: {done}")
ok("a save in progress: virsh domjobinfo shows it, virsh domjobabort cancels it, the "
   "domain runs on; the completed-job statistics say cancelled, and why")

# virsh destroy during a save does not wait for it: the save fails at once, the domain is
# destroyed (libvirt's destroy ends a running job). The FIFO the user named is kept.
if not stat.S_ISFIFO(os.stat(fifo).st_mode):
    fail("the aborted save removed the FIFO it was given")
threading.Thread(target=drain, daemon=True).start()
result.clear()
saver = threading.Thread(target=bg_save)
saver.start()
until(lambda: d2.jobInfo()[0] == E.VIR_DOMAIN_JOB_UNBOUNDED, 20, "the second save job")
t0 = time.monotonic()
virsh("destroy", "s1")
took = time.monotonic() - t0
saver.join(30)
if took > 10 or saver.is_alive() or not result or "domain destroyed" not in result[0]:
    fail(f"destroy during a save: {took:.1f} s, save said {result}")
if dom.state() != [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_DESTROYED]:
    fail(f"after destroy during a save: {dom.state()}")
dom.create()
ok(f"virsh destroy during a save: done in {took:.1f} s, the save failed ({result[0][:60]}), "
   "shut off (destroyed)")

out = virsh("save", "s1", f"{work}/v.save")
if "saved to" not in out:
    fail(f"virsh save said {out}")
virsh("restore", f"{work}/v.save")
if "running" not in virsh("domstate", "s1", "--reason") or \
        "restored" not in virsh("domstate", "s1", "--reason"):
    fail("virsh restore: " + virsh("domstate", "s1", "--reason"))
r = subprocess.run(["virsh", "-c", uri, "restore", f"{work}/foreign"], capture_output=True,
                   text=True, timeout=60)
if r.returncode == 0 or "not a Domus domain save image" not in r.stderr:
    fail(f"virsh restore of a foreign file: {r.returncode} {r.stderr}")
ok("stock virsh: save, restore, domstate --reason; a foreign file refused")

# virsh domjobinfo --completed: the last finished job, kept per domain even once the save
# ended the domain, forgotten after one read unless --keep-completed (libvirt's rule).
# libvirt's JOB_COMPLETED event carries the same statistics.
jobs_done = []
c2.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                          lambda c, d, params, o: jobs_done.append((d.name(), params)), None)
virsh("save", "s1", f"{work}/c.save")
info = virsh("domjobinfo", "s1", "--completed", "--keep-completed")
stats = c2.lookupByName("s1").jobStats(E.VIR_DOMAIN_JOB_STATS_COMPLETED |
                                       E.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED)
size = os.path.getsize(f"{work}/c.save")
if "Completed" not in info or "Save" not in info or "Time elapsed" not in info:
    fail(f"virsh domjobinfo --completed after a save: {info}")
if stats.get("type") != E.VIR_DOMAIN_JOB_COMPLETED or stats.get("success") is not True or \
        stats.get("operation") != E.VIR_DOMAIN_JOB_OPERATION_SAVE or \
        not 0 < stats.get("data_processed", 0) < size or \
        stats.get("memory_total") != 32 << 20 or not stats.get("memory_processed") or \
        "time_elapsed" not in stats:
    fail(f"completed-job statistics of a save ({size} byte image): {stats}")
until(lambda: jobs_done, 20, "the JOB_COMPLETED event of the save")
name, params = jobs_done.pop(0)
if name != "s1" or params.get("operation") != E.VIR_DOMAIN_JOB_OPERATION_SAVE or \
        params.get("data_processed") != stats.get("data_processed") or \
        params.get("success") is not True:
    fail(f"JOB_COMPLETED event of the save: {name} {params}, the job's statistics {stats}")
virsh("domjobinfo", "s1", "--completed")
info = virsh("domjobinfo", "s1", "--completed")
if "None" not in info:
    fail(f"the completed job was not forgotten after a read without --keep-completed: {info}")
virsh("restore", f"{work}/c.save")
stats = dom.jobStats(E.VIR_DOMAIN_JOB_STATS_COMPLETED)
if stats.get("type") != E.VIR_DOMAIN_JOB_COMPLETED or \
        stats.get("operation") != E.VIR_DOMAIN_JOB_OPERATION_RESTORE or \
        not 0 < stats.get("data_processed", 0) < size:
    fail(f"completed-job statistics of a restore: {stats}")
until(lambda: jobs_done, 20, "the JOB_COMPLETED event of the restore")
if jobs_done[0][1].get("operation") != E.VIR_DOMAIN_JOB_OPERATION_RESTORE:
    fail(f"JOB_COMPLETED event of the restore: {jobs_done}")
r = subprocess.run(["virsh", "-c", uri, "domjobinfo", "s1", "--keep-completed"],
                   capture_output=True, text=True, timeout=60)
if r.returncode == 0:
    fail("virsh domjobinfo --keep-completed without --completed was taken")
ok("JOB_COMPLETED events of the save and the restore; "
   "virsh domjobinfo --completed: the save's, kept with --keep-completed, forgotten after a "
   f"plain read; the restore's ({stats.get('time_elapsed')} ms); --keep-completed alone "
   "refused")

cleanup()
