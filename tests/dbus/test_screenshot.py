#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A real desktop notification, seen: Xvfb, Debian's dunst on a private session bus, the
real domus-dbusd (test:///default) and domus-notify. A domain started through the service
and another one crashing must appear on screen; the screenshot is kept as
meson-logs/dbus-notification.png and must differ from the screen before them."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import busenv  # noqa: E402

busenv.need_modules()
for tool, pkg in [("Xvfb", "xvfb"), ("dunst", "dunst"), ("dunstctl", "dunst"),
                  ("import", "imagemagick"), ("compare", "imagemagick"),
                  ("identify", "imagemagick")]:
    if not shutil.which(tool):
        busenv.skip(f"{tool} is not installed (package {pkg})")

import dbus  # noqa: E402
import pytest  # noqa: E402

DOMAIN_XML = """<domain type='test'><name>{}</name><memory>8192</memory>
<os><type>hvm</type></os></domain>"""
MIN_CHANGED_PIXELS = 2000


def start_xvfb(env):
    r, w = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1024x768x24",
                             "-nolisten", "tcp"], pass_fds=(w,), stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        display = f.readline().strip()
    if not display:
        xvfb.kill()
        pytest.fail("Xvfb did not report a display")
    return xvfb, f":{display}"


def screenshot(display, path):
    subprocess.run(["import", "-display", display, "-window", "root", path], check=True,
                   timeout=30)


def changed_pixels(a, b):
    p = subprocess.run(["compare", "-metric", "AE", a, b, "null:"], capture_output=True,
                       text=True, timeout=30)
    return int(float(p.stderr.split()[0]))


def test_notification_on_screen(env):
    xvfb, display = start_xvfb(env)
    try:
        run(env, display)
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def run(env, display):
    config = os.path.join(env.workdir, "dunstrc")
    with open(config, "w") as f:  # dunst's defaults, big enough to see, never expiring
        f.write("[global]\n    font = Monospace 12\n    width = 420\n    offset = 20x20\n"
                "[urgency_low]\n    timeout = 0\n[urgency_normal]\n    timeout = 0\n"
                "[urgency_critical]\n    timeout = 0\n")
    dunst = env.start("dunst", ["dunst", "-config", config], DISPLAY=display)
    busenv.wait_for(lambda: busenv.name_has_owner(env.session.address,
                                                  "org.freedesktop.Notifications")
                    or dunst.proc.poll() is not None, what="dunst on the session bus")
    assert dunst.proc.poll() is None, dunst.output()
    env.start_service()
    agent = env.start("domus-notify", [busenv.NOTIFY])
    busenv.wait_for(lambda: "watching" in agent.output(), what="domus-notify")
    before = os.path.join(env.workdir, "before.png")
    screenshot(display, before)

    bus = dbus.bus.BusConnection(env.system.address)
    connect = dbus.Interface(bus.get_object(busenv.SERVICE, busenv.TEST_PATH),
                             "org.libvirt.Connect")
    connect.DomainCreateXML(DOMAIN_XML.format("web-server"), 0)
    crashing = connect.DomainCreateXML(DOMAIN_XML.format("database"), 0)
    dbus.Interface(bus.get_object(busenv.SERVICE, crashing),
                   "org.libvirt.Domain").CoreDump("/dev/null", 0, 1)  # VIR_DUMP_CRASH

    ctl_env = env.environ(DISPLAY=display)
    busenv.wait_for(lambda: subprocess.run(["dunstctl", "count", "displayed"], env=ctl_env,
                                           capture_output=True, text=True).stdout.strip()
                    in ("2", "3"), what="dunst to display the notifications")
    after = os.path.join(env.workdir, "after.png")
    busenv.wait_for(lambda: screenshot(display, after) or
                    changed_pixels(before, after) >= MIN_CHANGED_PIXELS, timeout=5,
                    what="the notifications to be drawn")
    keep = os.path.join(os.environ.get("DOMUS_LOG_DIR") or env.workdir,
                        "dbus-notification.png")
    shutil.copy(after, keep)
    print(f"screenshot: {keep} ({changed_pixels(before, after)} pixels changed)")
    colours = subprocess.run(["identify", "-format", "%k", after], capture_output=True,
                             text=True, check=True).stdout
    assert int(colours) > 2, "the screenshot is blank"
    assert agent.proc.poll() is None


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v", "-s", "-p", "no:cacheprovider"]))
