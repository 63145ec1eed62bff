#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""virtdomusd as a program: options, configuration, sockets and pidfile, SIGTERM, --timeout,
socket activation, readiness, the real /run/libvirt path (private mount namespace) and
session mode autostarted by the stock client."""
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

from rpctest import VIRTDOMUSD, Daemon, Raw, Skip, Tap, run

t = Tap()


def fails_with(args, text, status=None):
    rc, out, err = run([VIRTDOMUSD, *args], timeout=10)
    assert rc != 0 and (status is None or rc == status), (rc, out, err)
    assert text in err, err


@t.test
def help_and_version():
    rc, out, _ = run([VIRTDOMUSD, "--help"])
    assert rc == 0 and "--timeout" in out and "--config" in out and "--pidfile" in out, out
    rc, out, _ = run([VIRTDOMUSD, "--version"])
    assert rc == 0 and out.startswith("virtdomusd (Domus) "), out


@t.test
def bad_options():
    fails_with(["--frobnicate"], "Unknown option --frobnicate", 2)
    fails_with(["--timeout", "0"], "--timeout must be a positive number", 2)
    fails_with(["--session", "--system"], "exclude each other", 2)
    fails_with(["extra"], "unexpected argument 'extra'", 2)


@t.test
def bad_config():
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "c.conf")
        base = ["--config", conf, "--socket-dir", tmp, "--pidfile", f"{tmp}/pid"]
        for text, err in (("[virtdomusd]\nmax_clientz = 3\n", "unknown setting 'max_clientz'"),
                          ("[virtdomusd]\nmax_workers = lots\n", "max_workers = 'lots'"),
                          ("[virtdomusd]\nmax_workers = 0\n", "from 1 to 1024"),
                          ("[other]\nx = 1\n", "unknown section [other]"),
                          ("[virtdomusd]\nlisten_tcp = 1\n", "auth_tcp = 'sasl' is not supported"),
                          ("[virtdomusd]\nlisten_tcp = 2\n", "from 0 to 1"),
                          ("[virtdomusd]\nmigration_port_min = 5000\nmigration_port_max = 4000\n",
                           "above migration_port_max"),
                          ("not a key file\n", conf)):
            with open(conf, "w") as f:
                f.write(text)
            fails_with(base, err, 1)
        fails_with(["--config", f"{tmp}/missing.conf"], "missing.conf", 1)
        assert not os.path.exists(f"{tmp}/virtdomusd-sock")


@t.test
def sigterm_cleans_up():
    d = Daemon()
    with open(d.pidfile) as f:
        assert int(f.read()) == d.proc.pid
    assert stat.S_ISSOCK(os.stat(d.sock).st_mode) and stat.S_ISSOCK(os.stat(d.sock_ro).st_mode)
    r = Raw(d.sock)
    r.open()
    assert d.stop() == 0, d.logtext()
    for p in (d.sock, d.sock_ro, d.pidfile):
        assert not os.path.exists(p), p
    assert r.closed()
    d.close()


@t.test
def tcp_listener():
    """--listen with auth_tcp = "none": stock virsh over domus+tcp://; off by default."""
    port = 16600 + os.getpid() % 1000
    with Daemon(["--listen"], config=f'[virtdomusd]\nauth_tcp = "none"\nlisten_addr = 127.0.0.1\n'
                f"tcp_port = {port}\n") as d:
        rc, out, err = run(["virsh", "-c", f"domus+tcp://127.0.0.1:{port}/system", "uri"])
        assert rc == 0 and "domus+tcp://127.0.0.1" in out, (rc, out, err)
        rc, out, err = run(["virsh", "-c", f"domus+tcp://127.0.0.1:{port}/system", "list", "--all"])
        assert rc == 0, err
        assert "trusted migration network only" in d.logtext()
    with Daemon(config=f"[virtdomusd]\ntcp_port = {port}\n"):
        rc, out, err = run(["virsh", "-c", f"domus+tcp://127.0.0.1:{port}/system", "list"])
        assert rc != 0, "TCP served without listen_tcp"


def _closed_by_peer(sock, within):
    """True if the daemon closes @sock (EOF) within @within seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


@t.test
def anonymous_clients_are_bounded():
    """Connections that never open one: at most max_anonymous_clients per socket are accepted
    (more wait in the backlog, as with libvirtd; the read-write socket stays usable when the
    read-only one is full), each closed after anonymous_timeout; an opened one is not."""
    with Daemon(config="[virtdomusd]\nmax_anonymous_clients = 3\nanonymous_timeout = 2\n") as d:
        silent = []
        for _ in range(3):
            s = socket.socket(socket.AF_UNIX)
            s.connect(d.sock_ro)
            silent.append(s)
        time.sleep(0.3)
        # A 4th waits, unaccepted: it is answered only once the silent ones are gone.
        waiting = Raw(d.sock_ro, timeout=10)
        t0 = time.monotonic()
        rc, out, err = run(["virsh", "-c", d.uri, "uri"])
        assert rc == 0, f"the read-write socket was starved: {err}"
        opened = Raw(d.sock)
        opened.open()
        assert "have not opened one (max_anonymous_clients)" in d.logtext()
        waiting.open()
        assert time.monotonic() - t0 > 1, "the 4th client was served while 3 were silent"
        assert all(_closed_by_peer(s, 4) for s in silent), "silent clients were not closed"
        assert "no connection opened within 2 s" in d.logtext()
        waiting.close()
        rc, out, err = run(["virsh", "-r", "-c", d.uri_ro, "uri"])
        assert rc == 0, f"the read-only socket after the timeout: {err}"
        assert d.alive()
        # Opened before the silent ones timed out, and kept past its own 2 s.
        assert not _closed_by_peer(opened.s, 0.5), "an opened connection was closed"
        opened.close()


@t.test
def one_daemon_per_socket():
    with Daemon() as d:
        fails_with(["--system", "--socket-dir", d.dir, "--pidfile", f"{d.dir}/other.pid"],
                   "another daemon is already listening", 1)
        fails_with(["--system", "--socket-dir", f"{d.dir}/x", "--pidfile", d.pidfile],
                   "is locked", 1)
        assert d.alive() and os.path.exists(d.sock)


@t.test
def stale_socket_is_replaced():
    with Daemon() as d:
        d.stop(signal.SIGKILL)
        d.expect_failure = True
        assert os.path.exists(d.sock)   # left behind by the kill
        p = subprocess.Popen([VIRTDOMUSD, "--system", "--backend", "none", "--socket-dir", d.dir,
                              "--pidfile", d.pidfile], stderr=subprocess.PIPE)
        try:
            assert Daemon.wait_for(lambda: _answers(d.sock)), "no daemon on the old path"
        finally:
            p.terminate()
            p.wait(10)


def _answers(path):
    try:
        r = Raw(path, timeout=2)
        r.open()
        r.close()
        return True
    except OSError:
        return False


@t.test
def idle_timeout():
    d = Daemon(args=["--timeout", "2"])
    r = Raw(d.sock)
    r.open()
    time.sleep(3)
    assert d.alive(), "exited with a client connected"
    r.close()
    t0 = time.monotonic()
    d.proc.wait(10)
    assert d.proc.returncode == 0 and 1.5 < time.monotonic() - t0 < 5, d.logtext()
    assert "idle for 2 s" in d.logtext()
    assert not os.path.exists(d.sock)
    d.close()


@t.test
def ready_notification():
    with tempfile.TemporaryDirectory() as tmp:
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(f"{tmp}/notify")
        ns.settimeout(10)
        env = dict(os.environ, NOTIFY_SOCKET=f"{tmp}/notify")
        d = Daemon(env=env)
        try:
            assert ns.recv(100) == b"READY=1"
            d.stop()
            assert ns.recv(100) == b"STOPPING=1"
        finally:
            d.close()


@t.test
def socket_activation():
    if not shutil.which("systemd-socket-activate"):
        raise Skip("systemd-socket-activate not installed")
    with tempfile.TemporaryDirectory() as tmp:
        rw, ro = f"{tmp}/virtdomusd-sock", f"{tmp}/virtdomusd-sock-ro"
        p = subprocess.Popen(["systemd-socket-activate", "-l", rw, "-l", ro,
                              "--fdname=virtdomusd.socket:virtdomusd-ro.socket",
                              VIRTDOMUSD, "--system", "--backend", "none", "--pidfile",
                              f"{tmp}/pid"],
                             stderr=subprocess.PIPE, text=True)
        try:
            assert Daemon.wait_for(lambda: os.path.exists(ro))
            rc, out, err = run(["virsh", "-c", f"domus+unix:///system?socket={rw}", "hostname"])
            assert rc == 0 and out.strip() == socket.gethostname(), err
            with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
                f.write("<domain/>")
                f.flush()
                rc, _, err = run(["virsh", "-c", f"domus+unix:///system?socket={ro}",
                                  "define", f.name])
            assert rc == 1 and "read only access prevents" in err, err
        finally:
            p.terminate()
            _, err = p.communicate(timeout=10)
        assert "using sockets passed by systemd" in err, err
        assert p.returncode == 0, (p.returncode, err)


def in_namespace(script):
    """Run @script as root in a private mount namespace with an empty /run."""
    return run(["unshare", "-m", "sh", "-euc",
                "mount --make-rprivate / && mount -t tmpfs tmpfs /run && " + script],
               timeout=60)


@t.test
def real_system_socket_path():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        raise Skip("needs root and unshare for a private /run")
    if run(["unshare", "-m", "true"])[0] != 0:
        raise Skip("mount namespaces are not permitted here")
    rc, out, err = in_namespace(
        f"{VIRTDOMUSD} --backend none & "
        "for i in $(seq 100); do [ -S /run/libvirt/virtdomusd-sock ] && break; sleep 0.05; done; "
        "stat -c '%a %n' /run/libvirt/virtdomusd-sock /run/libvirt/virtdomusd-sock-ro "
        "/run/virtdomusd.pid; "
        "virsh -c domus:///system uri; virsh -c domus:///system list --all --name; "
        "virsh -r -c domus:///system hostname; "
        "setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/ "
        "virsh -r -c domus:///system version | grep -q DOMUS && echo ro-as-nobody-ok; "
        "setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/ "
        "virsh -c domus:///system version 2>&1 | grep -q 'Permission denied' && echo rw-denied; "
        "kill $!; wait $!; echo \"left:$(ls -A /run/libvirt /run/virtdomusd.pid 2>&1 | tr '\\n' ' ')\"")
    assert rc == 0, (out, err)
    lines = out.split("\n")
    assert "600 /run/libvirt/virtdomusd-sock" in lines, out
    assert "666 /run/libvirt/virtdomusd-sock-ro" in lines, out
    assert "domus:///system" in lines and socket.gethostname() in lines, out
    assert lines.count(socket.gethostname()) == 1, out     # through the read-only socket
    assert "ro-as-nobody-ok" in lines and "rw-denied" in lines, (out, err)
    assert "left:ls: cannot access '/run/virtdomusd.pid'" in out, out      # all removed


@t.test
def session_autostart():
    """domus:///session as an ordinary user: the client starts $VIRTD_PATH/virtdomusd.
    Debian's 9.0 client does so only in "direct" mode: ?mode=direct in the URI, or
    remote_mode = "direct" in ~/.config/libvirt/libvirt.conf (both tried)."""
    if os.geteuid() != 0:
        raise Skip("needs root to run the client as another user")
    user = pwd.getpwnam("nobody")
    tmp = tempfile.mkdtemp(prefix="virtdomusd-session-")
    os.chown(tmp, user.pw_uid, user.pw_gid)
    os.chmod(tmp, 0o700)
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "XDG_RUNTIME_DIR": tmp,
           "XDG_CONFIG_HOME": f"{tmp}/config", "XDG_CACHE_HOME": f"{tmp}/cache",
           "VIRTD_PATH": os.path.dirname(os.path.abspath(VIRTDOMUSD))}
    # The client starts the daemon with a scrubbed environment: its configuration file says
    # which backend (the empty one: this is about autostart, not domains).
    os.makedirs(f"{tmp}/config/domus")
    with open(f"{tmp}/config/domus/virtdomusd.conf", "w") as f:
        f.write("[virtdomusd]\nbackend = none\n")
    for d in (f"{tmp}/config", f"{tmp}/config/domus", f"{tmp}/config/domus/virtdomusd.conf"):
        os.chown(d, user.pw_uid, user.pw_gid)
    pidfile = f"{tmp}/libvirt/virtdomusd.pid"
    try:
        rc, out, err = run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                            "--clear-groups", "virsh", "-c", "domus:///session?mode=direct",
                            "uri; hostname; list --all"], env=env)
        assert rc == 0, (out, err)
        assert out.split("\n")[0] == "domus:///session?mode=direct", out
        assert socket.gethostname() in out, out
        sock = f"{tmp}/libvirt/virtdomusd-sock"
        st = os.stat(sock)
        assert st.st_uid == user.pw_uid and stat.S_IMODE(st.st_mode) == 0o600
        assert not os.path.exists(sock + "-ro")
        assert stat.S_IMODE(os.stat(f"{tmp}/libvirt").st_mode) == 0o700
        with open(pidfile) as f:
            pid = int(f.read())
        with open(f"/proc/{pid}/cmdline") as f:
            assert f.read().split("\0")[1] == "--timeout=120"
        os.kill(pid, signal.SIGTERM)
        assert Daemon.wait_for(lambda: not os.path.exists(sock))
        # the same through the client's configuration file and the plain URI
        os.makedirs(f"{tmp}/config/libvirt")
        with open(f"{tmp}/config/libvirt/libvirt.conf", "w") as f:
            f.write('remote_mode = "direct"\n')
        os.chown(f"{tmp}/config", user.pw_uid, user.pw_gid)
        rc, out, err = run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                            "--clear-groups", "virsh", "-c", "domus:///session", "version"],
                           env=env)
        assert rc == 0 and "DOMUS" in out, (out, err)
    finally:
        if os.path.exists(pidfile):
            try:
                with open(pidfile) as f:
                    os.kill(int(f.read()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        shutil.rmtree(tmp, ignore_errors=True)


@t.test
def damaged_status_files_at_start():
    # The libxc backend reads its status files back at start: garbage, a file of NUL
    # bytes and a file whose content names another domain are logged and removed; the
    # daemon serves on. (No file here names a live domain: no KVM needed.)
    with tempfile.TemporaryDirectory() as tmp:
        state = f"{tmp}/run/virtdomusd"
        os.makedirs(state)
        os.makedirs(f"{tmp}/defs")
        with open(f"{state}/junk.xml", "w") as f:
            f.write("garbage <")
        with open(f"{state}/nul.xml", "wb") as f:
            f.write(b"\0" * 64)
        with open(f"{state}/x.xml", "w") as f:
            f.write("<domain type='kvm' id='3'><name>y</name>"
                    "<uuid>11111111-2222-3333-4444-555555555555</uuid>"
                    "<memory unit='MiB'>32</memory><vcpu>1</vcpu>"
                    "<os><type>hvm</type><kernel>/boot/k</kernel></os></domain>")
        env = dict(os.environ, DOMUS_RUN_DIR=f"{tmp}/run")
        d = Daemon(args=["--backend", "xc"], env=env,
                   config=f"[virtdomusd]\ndomain_dir = {tmp}/defs\n")
        try:
            r = Raw(d.sock)
            r.open()
            hdr, _ = r.call(3)          # GET_TYPE
            assert hdr[5] == 0, hdr
            r.close()
            log = d.logtext()
            for name in ("junk.xml", "nul.xml", "x.xml"):
                assert f"{name}: unusable status file, removed" in log, log
                assert not os.path.exists(f"{state}/{name}"), name
            assert "it describes domain 'y', not the one its file name says" in log, log
        finally:
            d.close()


t.run()
