"""The one rule for missing prerequisites (conftest.require): a skip with a message
saying what is missing and how to install it, and under CI a failure instead."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import conftest
from conftest import REQUIREMENTS, Requirement, require

HERE = Path(__file__).resolve().parent


@pytest.fixture
def missing(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(REQUIREMENTS, "media", Requirement("the thing", "get the thing",
                                                           lambda: False))
    return "media"


def test_missing_outside_ci_is_a_skip_naming_what_and_how(missing, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="missing the thing: get the thing"):
        require(missing)


@pytest.mark.parametrize("value", ["true", "1", "True"])
def test_missing_under_ci_is_a_failure(missing, monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="missing the thing: get the thing"):
        require(missing)


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_ci_unset_or_false_is_not_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    assert not conftest.in_ci()


def test_every_requirement_is_a_registered_marker(pytestconfig):
    registered = {line.split(":")[0].strip() for line in pytestconfig.getini("markers")}
    assert set(REQUIREMENTS) <= registered


def test_present_requirements_pass_quietly(monkeypatch):
    monkeypatch.setitem(REQUIREMENTS, "media", Requirement("x", "y", lambda: True))
    monkeypatch.setenv("CI", "true")
    require("media")  # neither skips nor fails


_MARKED = '''
import pytest

@pytest.fixture(scope="session")
def built():
    raise AssertionError("a fixture ran although the media is missing")

@pytest.mark.media
def test_needs_media(built):
    pass

def test_needs_nothing():
    pass
'''


@pytest.mark.parametrize("ci, outcome", [(None, "1 passed, 1 skipped"),
                                         ("true", "1 passed, 1 error")])
def test_a_marked_test_without_media_skips_or_fails_before_its_fixtures(tmp_path, ci, outcome):
    """The real hook in a copy of this folder's conftest, where ../shared/media does not
    exist (tmp/shared/media): the media test is skipped, or under CI fails in setup
    before any fixture runs, with the message; the unmarked test runs either way."""
    tests = tmp_path / "project" / "tests"
    tests.mkdir(parents=True)
    for name in ("conftest.py", "montage.py", "measure.py"):
        shutil.copy(HERE / name, tests / name)
    (tests / "test_marked.py").write_text(_MARKED)
    (tests / "pytest.ini").write_text("[pytest]\nmarkers =\n    media: x\n    chromium: x\n"
                                      "    ray: x\n")
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci is not None:
        env["CI"] = ci
    process = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA",
                              str(tests)], capture_output=True, text=True, cwd=tests, env=env,
                             timeout=120)
    assert outcome in process.stdout, process.stdout
    assert f"missing the test media ({tmp_path / 'shared' / 'media' / 'clips'})" in process.stdout
    assert "a fixture ran" not in process.stdout
    assert process.returncode == (1 if ci else 0), process.stdout
