# SPDX-License-Identifier: GPL-2.0-or-later
import os
import tempfile

import pytest

import busenv


@pytest.fixture
def env():
    base = os.environ.get("DOMUS_TEST_TMP") or None
    with tempfile.TemporaryDirectory(prefix="domus-dbus-", dir=base) as d:
        os.chmod(d, 0o755)
        e = busenv.Env(d)
        try:
            yield e
        finally:
            e.stop()
