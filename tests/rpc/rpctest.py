# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for the rpc suite: run the real virtdomusd on private sockets, speak raw
libvirt RPC to it, and report subtests as TAP."""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

VIRTDOMUSD = os.environ.get("VIRTDOMUSD", "virtdomusd")

REMOTE_PROGRAM = 0x20008086
KEEPALIVE_PROGRAM = 0x6B656570
CALL, REPLY, MESSAGE, STREAM, CALL_WITH_FDS = 0, 1, 2, 3, 4
OK, ERROR, CONTINUE = 0, 1, 2


def skip_all(reason):
    print(f"1..0 # SKIP {reason}")
    sys.exit(0)


class Tap:
    """Run named test functions, print TAP, exit non-zero if one failed."""

    def __init__(self):
        self.tests = []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def run(self):
        print(f"1..{len(self.tests)}", flush=True)
        failed = 0
        for i, fn in enumerate(self.tests, 1):
            name = fn.__name__
            try:
                fn()
                print(f"ok {i} - {name}", flush=True)
            except Skip as e:
                print(f"ok {i} - {name} # SKIP {e}", flush=True)
            except Exception:  # a failed assertion or anything unexpected
                failed += 1
                print(f"not ok {i} - {name}", flush=True)
                for line in traceback.format_exc().splitlines():
                    print(f"# {line}", flush=True)
        sys.exit(1 if failed else 0)


class Skip(Exception):
    pass


class Daemon:
    """virtdomusd listening in a private directory (system mode unless session=True)."""

    def __init__(self, args=(), session=False, config=None, env=None):
        self.dir = tempfile.mkdtemp(prefix="virtdomusd-test-")
        self.sock = os.path.join(self.dir, "virtdomusd-sock")
        self.sock_ro = self.sock + "-ro"
        self.pidfile = os.path.join(self.dir, "virtdomusd.pid")
        self.log = os.path.join(self.dir, "log")
        # The protocol is under test here, not domains: the empty backend (the libxc one
        # would use /var/lib/domus; tests/e2e drives that one).
        cmd = [VIRTDOMUSD, "--verbose", "--backend", "none", "--socket-dir", self.dir,
               "--pidfile", self.pidfile]
        cmd += ["--session"] if session else ["--system"]
        if config is not None:
            path = os.path.join(self.dir, "virtdomusd.conf")
            with open(path, "w") as f:
                f.write(config)
            cmd += ["--config", path]
        cmd += list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"),
                                     env=env)
        self.wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None)
        if self.proc.poll() is not None:
            raise AssertionError(f"virtdomusd exited at start:\n{self.logtext()}")

    @property
    def uri(self):
        return f"domus+unix:///system?socket={self.sock}"

    @property
    def uri_ro(self):
        return f"domus+unix:///system?socket={self.sock_ro}"

    def logtext(self):
        with open(self.log) as f:
            return f.read()

    @staticmethod
    def wait_for(cond, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            time.sleep(0.02)
        return False

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("virtdomusd did not exit on SIGTERM")
        return self.proc.returncode

    def close(self):
        """Stop the daemon; a non-zero exit (a crash, a sanitizer report) fails the run."""
        rc = self.stop()
        if rc != 0 and not getattr(self, "expect_failure", False):
            for line in self.logtext().splitlines()[-60:]:
                print(f"# {line}")
            print(f"Bail out! virtdomusd exited with status {rc}", flush=True)
            shutil.rmtree(self.dir, ignore_errors=True)
            raise SystemExit(1)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run(cmd, **kw):
    """Run a client command; return (exit status, stdout, stderr)."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 30), **kw)
    return p.returncode, p.stdout, p.stderr


# ---- a raw RPC client, for what stock clients never send ----

def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)


def packet(prog, proc, serial, ptype=CALL, status=OK, payload=b"", vers=1):
    body = struct.pack(">IIiiIi", prog, vers, proc, ptype, serial, status) + payload
    return struct.pack(">I", len(body) + 4) + body


class Raw:
    """A bare connection to the daemon."""

    def __init__(self, path, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.serial = 0

    def send(self, data):
        self.s.sendall(data)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf

    def recv(self):
        """One packet: (header tuple (prog, vers, proc, type, serial, status), payload)."""
        (length,) = struct.unpack(">I", self.recv_exact(4))
        body = self.recv_exact(length - 4)
        return struct.unpack(">IIiiIi", body[:24]), body[24:]

    def call(self, proc, payload=b"", prog=REMOTE_PROGRAM):
        serial = self.serial
        self.serial += 1
        self.send(packet(prog, proc, serial, payload=payload))
        while True:
            hdr, body = self.recv()
            if hdr[3] == REPLY and hdr[4] == serial:
                return hdr, body

    def open(self, name="domus:///system", flags=0):
        self.call(66)                                   # AUTH_LIST
        hdr, body = self.call(1, struct.pack(">I", 1) + xdr_string(name) + struct.pack(">I", flags))
        assert hdr[5] == OK, decode_error(body)

    def closed(self, timeout=5):
        """True once the daemon has closed the connection."""
        self.s.settimeout(timeout)
        try:
            while True:
                if not self.s.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def decode_error(body):
    """remote_error → (code, domain, message)."""
    code, domain, present = struct.unpack(">iiI", body[:12])
    msg = None
    if present:
        (n,) = struct.unpack(">I", body[12:16])
        msg = body[16:16 + n].decode()
    return code, domain, msg
