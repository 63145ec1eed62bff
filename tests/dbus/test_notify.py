#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""domus-notify, the real agent, with the real domus-dbusd (test:///default) on a private
system-like bus and a recording notification server on a private session bus: what each
lifecycle change shows, urgency and hints, coalescing with replaces_id, and surviving
restarts of the service and of the notification server."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import busenv  # noqa: E402

busenv.need_modules()

import dbus  # noqa: E402
import pytest  # noqa: E402

DOM = busenv.TEST_PATH + "/domain/_6695eb01_f6a4_8304_79aa_97f2502e193f"


def domain(env, bus="system"):
    address = env.system.address if bus == "system" else env.session.address
    conn = dbus.bus.BusConnection(address)
    return dbus.Interface(conn.get_object(busenv.SERVICE, DOM), "org.libvirt.Domain")


def start_agent(env, *args):
    agent = env.start("domus-notify", [busenv.NOTIFY, *args])
    busenv.wait_for(lambda: "watching" in agent.output(), what="domus-notify to start")
    return agent


def check(call, summary, urgency, category, body=None):
    assert call["summary"] == summary
    assert call["app_name"] == "Domus"
    assert call["hints"]["urgency"] == urgency
    assert call["hint_types"]["urgency"] == "y"          # the spec's BYTE
    assert call["hints"]["category"] == category
    assert call["hints"]["desktop-entry"] == "domus-notify"
    assert call["expire_timeout"] == -1
    if body:
        assert call["body"] == body


def test_lifecycle_notifications(env):
    server = busenv.FakeNotifications(env)
    env.start_service()
    start_agent(env)
    d = domain(env)
    d.Destroy(0)
    calls = server.wait_calls(1)
    check(calls[0], "test stopped", 1, "x-domus.vm.stopped",
          "The virtual machine was powered off.")
    assert calls[0]["replaces_id"] == 0
    d.Create(0)
    d.Suspend()
    d.Resume()
    calls = server.wait_calls(4)
    check(calls[1], "test started", 1, "x-domus.vm.started", "The virtual machine booted.")
    check(calls[2], "test paused", 0, "x-domus.vm.paused")
    check(calls[3], "test resumed", 0, "x-domus.vm.resumed")
    # one domain's burst replaces one notification instead of stacking up
    first = calls[0]["id"]
    assert [c["replaces_id"] for c in calls[1:4]] == [first] * 3
    assert all(c["id"] == first for c in calls[:4])


def test_renamed_domain_gets_its_new_name(env):
    server = busenv.FakeNotifications(env)
    env.start_service()
    start_agent(env)
    d = domain(env)
    d.Destroy(0)
    server.wait_calls(1)   # the signal has only the path: the name is read when it arrives
    d.Rename("renamed", 0)
    d.Create(0)
    calls = server.wait_calls(2)
    assert [c["summary"] for c in calls] == ["test stopped", "renamed started"]


def test_crash_saved_restored(env):
    server = busenv.FakeNotifications(env)
    env.start_service()
    start_agent(env)
    d = domain(env)
    d.CoreDump("/dev/null", 0, 1)  # VIR_DUMP_CRASH: test:/// marks the domain crashed
    calls = server.wait_calls(1)
    check(calls[0], "test crashed", 2, "x-domus.vm.crashed")
    d.Create(0)
    saved = os.path.join(env.workdir, "test.save")
    d.Save(saved, "", 0)
    conn = dbus.bus.BusConnection(env.system.address)
    dbus.Interface(conn.get_object(busenv.SERVICE, busenv.TEST_PATH),
                   "org.libvirt.Connect").DomainRestore(saved, "", 0)
    calls = server.wait_calls(4)
    assert [c["summary"] for c in calls] == ["test crashed", "test started", "test saved",
                                             "test restored"]
    check(calls[2], "test saved", 1, "x-domus.vm.saved")
    check(calls[3], "test restored", 1, "x-domus.vm.restored")


def test_survives_service_restart(env):
    server = busenv.FakeNotifications(env)
    service = env.start_service()
    agent = start_agent(env)
    domain(env).Suspend()
    server.wait_calls(1)
    service.stop()
    busenv.wait_for(lambda: "is gone" in agent.output(), what="the agent to see the service go")
    env.start_service()
    busenv.wait_for(lambda: agent.output().count("is up") >= 2,
                    what="the agent to see the service back")
    domain(env).Destroy(0)    # a fresh test:/// again: the domain runs
    calls = server.wait_calls(2)
    check(calls[1], "test stopped", 1, "x-domus.vm.stopped")
    assert agent.proc.poll() is None


def test_survives_libvirt_daemon_restart(env):
    """The service behind a real libvirt daemon (as virtdomusd will be): when the daemon
    goes, calls answer libvirt's error; when it is back, the service reconnects by itself
    and its signals, and so the notifications, flow again."""
    libvirtd = busenv.Libvirtd(env)
    libvirtd.start()
    server = busenv.FakeNotifications(env)
    service = env.start_service(uri=libvirtd.uri)
    start_agent(env)
    domain(env).Suspend()
    check(server.wait_calls(1)[0], "test paused", 0, "x-domus.vm.paused")
    libvirtd.stop()
    busenv.wait_for(lambda: "connection closed" in service.output(),
                    what="the service to notice the daemon is gone")
    with pytest.raises(dbus.DBusException) as ei:
        domain(env).Resume()
    assert ei.value.get_dbus_name() == "org.libvirt.Error"
    assert "Failed to connect socket" in ei.value.get_dbus_message()
    libvirtd.start()
    busenv.wait_for(lambda: service.output().count("connected") >= 2, timeout=8,
                    what="the service to reconnect on its own")
    domain(env).Destroy(0)    # the new daemon's test:/// runs the domain again
    calls = server.wait_calls(2)
    check(calls[1], "test stopped", 1, "x-domus.vm.stopped")


def test_survives_notification_server_restart(env):
    server = busenv.FakeNotifications(env)
    env.start_service()
    agent = start_agent(env)
    d = domain(env)
    d.Suspend()
    server.wait_calls(1)
    server.stop()
    server = busenv.FakeNotifications(env)
    d.Resume()
    calls = server.wait_calls(1)
    check(calls[0], "test resumed", 0, "x-domus.vm.resumed")
    # the new server never saw the old id: the agent must not ask to replace it
    assert calls[0]["replaces_id"] == 0
    assert agent.proc.poll() is None


def test_missing_server_is_not_fatal(env):
    env.start_service()
    agent = start_agent(env)
    domain(env).Suspend()
    busenv.wait_for(lambda: "Notify for test failed" in agent.output(),
                    what="the agent to report the missing server")
    server = busenv.FakeNotifications(env)
    domain(env).Resume()
    server.wait_calls(1)
    assert agent.proc.poll() is None


def test_session_mode(env):
    server = busenv.FakeNotifications(env)
    env.start_service(bus="session")
    start_agent(env, "--session")
    domain(env, "session").Suspend()
    check(server.wait_calls(1)[0], "test paused", 0, "x-domus.vm.paused")


def test_user_outside_group_domus(env):
    """An ordinary user's agent (here: nobody) gets the broadcast signals but may not ask
    the service for the domain's name; the notification names the domain by its UUID."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run the agent as another user")
    server = busenv.FakeNotifications(env)
    env.start_service()
    agent = env.start("domus-notify-nobody", ["setpriv", "--reuid=65534", "--regid=65534",
                                              "--clear-groups", busenv.NOTIFY])
    busenv.wait_for(lambda: "watching" in agent.output(), what="domus-notify as nobody")
    domain(env).Suspend()
    check(server.wait_calls(1)[0], "6695eb01-f6a4-8304-79aa-97f2502e193f paused", 0,
          "x-domus.vm.paused")


def test_one_agent_per_session(env):
    start_agent(env)
    second = env.start("domus-notify-2", [busenv.NOTIFY])
    assert second.proc.wait(5) == 0
    assert "another domus-notify runs" in second.output()


def test_bad_arguments(env):
    p = env.start("domus-notify-bad", [busenv.NOTIFY, "--bus-name", "not a name"])
    assert p.proc.wait(5) == 2
    assert "is not a well-known D-Bus name" in p.output()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v", "-p", "no:cacheprovider"]))
