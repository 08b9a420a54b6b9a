"""Line forms honour what cells honour: ``%config EachGen.*`` and ``{name}``; login, doctor."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from eachlabs_widgets import _api, _settings
from eachlabs_widgets._doctor import DoctorReport

from .conftest import FLUX


def test_resume_saves_where_the_cell_saved_and_polls_as_configured(shell, monkeypatch):
    shell.run_line_magic("config", "EachGen.output_dir = 'my_outputs'")
    shell.run_line_magic("config", "EachGen.poll_interval = 0.07")
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 4 -o t_g", "a fox")
    made = shell.user_ns["t_g"]
    assert made.paths[0].parent.resolve() == Path("my_outputs").resolve()
    asked: list[dict[str, Any]] = []
    real = _api.aresume

    def spy(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(_api, "aresume", spy)
    for path in made.paths:  # saved again by the resume, into the same folder
        path.unlink()
    # {name} is filled; the live card is replaced by the static result (nothing returned, so
    # the result is not shown twice)
    assert shell.run_line_magic("eachgen", "resume {t_g.id} -o t_r") is None
    resumed = shell.user_ns["t_r"]
    assert resumed.id == made.id
    assert resumed.paths and all(p.parent == made.paths[0].parent for p in resumed.paths)
    assert all(p.exists() for p in resumed.paths)
    [kwargs] = asked
    assert kwargs["poll"].max_interval == 0.07


def test_resume_without_saving_when_the_folder_is_empty(shell):
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 5 -o t_g", "a fox")
    shell.run_line_magic("config", "EachGen.output_dir = ''")
    shell.run_line_magic("eachgen", "resume {t_g.id} -o t_again")
    assert shell.user_ns["t_again"].paths == []


def test_a_name_that_is_not_defined_is_a_usage_error(shell):
    with pytest.raises(UsageError, match="no variable 't_nothing'"):
        shell.run_line_magic("eachgen", "resume {t_nothing.id}")


def test_login_asks_and_refuses_a_key_on_the_line(shell, monkeypatch):
    secret = "sk-typed-at-the-prompt"
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": secret)
    try:
        shell.run_line_magic("eachgen", "login")
        assert _settings.resolve().api_key == _settings.Secret(secret)
        with pytest.raises(UsageError, match="hidden prompt") as info:
            shell.run_line_magic("eachgen", "login sk-pasted-on-the-line")
        assert "sk-pasted" not in str(info.value)
    finally:
        _settings.reset_configuration()


def test_doctor_checks_the_configured_output_folder(shell, tmp_path):
    shell.run_line_magic("config", "EachGen.output_dir = 'notebook_outputs'")
    report = shell.run_line_magic("eachgen", "doctor")
    assert isinstance(report, DoctorReport)
    rows = {check: detail for check, _, detail in report.rows}
    assert rows["output folder"].startswith(str(tmp_path / "notebook_outputs"))
    with pytest.raises(UsageError, match="usage"):
        shell.run_line_magic("eachgen", "doctor now")
