"""``%%eachgen`` / ``%eachgen`` in a real InteractiveShell, against the embedded emulator."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from eachlabs_widgets import Generation, history
from eachlabs_widgets._display.render import Results, embed_mode
from eachlabs_widgets._service.limiter import limiter
from eachlabs_widgets.emulator.catalog import load_catalog
from eachlabs_widgets.magics import EachGen, EachGenError

from .conftest import FLUX, NANO


def created(emulator) -> int:
    return emulator.stats.predictions_created


# -- loading --------------------------------------------------------------------------------


def test_load_registers_both_forms_without_any_request(shell, emulator):
    magics = shell.magics_manager.magics
    assert "eachgen" in magics["line"] and "eachgen" in magics["cell"]
    assert any(isinstance(c, EachGen) for c in shell.configurables)
    assert emulator.stats.requests == {}  # loading is cheap: no catalogue, no client


def test_unload_removes_magics_config_and_completer(shell):
    matchers = len(shell.Completer.custom_matchers)
    shell.run_line_magic("unload_ext", "eachlabs_widgets")
    assert "eachgen" not in shell.magics_manager.magics["cell"]
    assert "eachgen" not in shell.magics_manager.magics["line"]
    assert not any(isinstance(c, EachGen) for c in shell.configurables)
    assert len(shell.Completer.custom_matchers) == matchers - 1
    shell.run_line_magic("load_ext", "eachlabs_widgets")  # the fixture unloads again
    assert "eachgen" in shell.magics_manager.magics["cell"]


def test_help_is_generated_with_the_options(shell):
    doc = shell.find_cell_magic("eachgen").__doc__
    for text in ("--background", "--force", "--emulator", "--output-dir", "--seed 1,2,3", "---"):
        assert text in doc
    assert "--background" in repr(shell.run_line_magic("eachgen", ""))
    # plain text, no reST: magic_arguments' "::" marker is gone, the usage comes first
    assert "::" not in [line.strip() for line in doc.splitlines()]
    assert doc.lstrip().startswith("%eachgen [-o NAME]")


# -- a generation -----------------------------------------------------------------------------


def test_cell_generates_stores_and_leaves_the_static_result(shell, displays, emulator, tmp_path):
    shell.run_cell_magic(
        "eachgen", f"{FLUX} --image_size landscape_16_9 --num_images 2 --seed 42 -o t_g", "a fox"
    )
    g = shell.user_ns["t_g"]
    assert isinstance(g, Generation)
    assert g.inputs["prompt"] == "a fox"
    assert (g.inputs["image_size"], g.inputs["num_images"], g.seed) == ("landscape_16_9", 2, 42)
    assert len(g.images) == 2 and not g.reused
    assert all(p.is_file() and p.parent == Path("eachgen_outputs") for p in g.paths)
    assert created(emulator) == 1
    # the live cards were displayed first, then replaced in place by the static result
    first, _, display_id = displays.items[0]
    assert "application/vnd.jupyter.widget-view+json" in first and display_id
    final = displays.final
    assert "image/jpeg" not in final and "a fox" in final["text/html"]
    assert final["text/html"].count("data:image/jpeg;base64,") == 1  # stored once
    assert displays.items[-1][2] == display_id


def test_line_form_with_prompt_option(shell, emulator):
    shell.run_line_magic("eachgen", f'{FLUX} --prompt "a lone tree" -o t_g')
    assert shell.user_ns["t_g"].prompt == "a lone tree"
    assert created(emulator) == 1


def test_booleans_as_flags_and_negated_flags(shell):
    shell.run_cell_magic(
        "eachgen", f"{FLUX} --enable_prompt_expansion --no-enable_safety_checker -o t_g", "x"
    )
    inputs = shell.user_ns["t_g"].inputs
    assert inputs["enable_prompt_expansion"] is True
    assert inputs["enable_safety_checker"] is False
    shell.run_cell_magic("eachgen", f"{FLUX} --enable-prompt-expansion=false -o t_h", "x")
    assert shell.user_ns["t_h"].inputs["enable_prompt_expansion"] is False


def test_default_model_is_used_without_model(shell):
    shell.run_line_magic("config", f"EachGen.default_model = '{NANO}'")
    shell.run_cell_magic("eachgen", "--aspect_ratio 16:9 -o t_g", "a boat")
    assert shell.user_ns["t_g"].model == NANO


# -- mistakes: one line, nothing sent ---------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"{FLUX} --image_size squarish", ["image_size", "'squarish' is not allowed", "'square'"]),
        ("flux-2-flex --num_inference_steps 99", ["num_inference_steps", "between 2 and 50"]),
        (f"{FLUX} --seed abc", ["seed", "expected an integer"]),
        (f"{FLUX} --sed 3", ["--sed", "did you mean --seed?"]),
        (f"{FLUX} --image_size square,squarish", ["--image_size", "'squarish'", "landscape_16_9"]),
        (f"{FLUX} --seed 1 --seed 2", ["given twice", "--seed a,b"]),
        (f"{FLUX} --prompt x", ["prompt is given twice"]),
        (f"{FLUX} stray", ["unexpected argument 'stray'"]),
        (f"{FLUX} --seed", ["--seed needs a value"]),
        (f"{FLUX} --timeout", ["--timeout needs a value"]),
        (f"{FLUX} --embed huge", ["invalid choice"]),
        (f"{FLUX} -o 1x", ["not a valid variable name"]),
        (f"{FLUX} --no-seed", ["seed is not a boolean"]),
        (f"{FLUX},{NANO} --colour red", ["has no input 'colour'"]),
        ("flux-2-turbo", ["unknown model 'flux-2-turbo'", f"did you mean '{FLUX}'"]),
        (f"{FLUX} --seed 1,2,3,4,5,6 --guidance_scale 1,2,3,4,5,6", ["more than 32"]),
        (f"{FLUX} 'unclosed", ["check the quotes"]),
    ],
)
def test_a_mistake_is_one_usage_error_and_sends_nothing(shell, emulator, line, expected):
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("eachgen", line, "a cat")
    message = str(info.value)
    assert "\n" not in message
    for text in expected:
        assert text in message
    assert created(emulator) == 0
    assert history() == []
    assert not Path("eachgen_outputs").exists()


def test_missing_prompt_says_where_it_goes(shell, emulator):
    with pytest.raises(UsageError, match=r"prompt: required.*cell body"):
        shell.run_cell_magic("eachgen", FLUX, "   \n")
    assert created(emulator) == 0


def test_no_key_for_the_service_is_a_usage_error_and_the_emulator_is_explicit(
    shell, emulator, monkeypatch
):
    monkeypatch.delenv("EACHLABS_BASE_URL")  # the real service, which needs a key
    with pytest.raises(UsageError, match="EACHLABS_API_KEY"):
        shell.run_cell_magic("eachgen", f"{FLUX} -o t_g", "a cat")
    assert created(emulator) == 0
    shell.run_cell_magic("eachgen", f"{FLUX} --emulator -o t_g", "a cat")
    assert shell.user_ns["t_g"].emulated
    assert created(emulator) == 1


# -- templating -------------------------------------------------------------------------------


def test_names_are_filled_from_the_namespace(shell):
    shell.user_ns.update(t_subject="a red fox", t_seed=7, t_size="square")
    shell.run_cell_magic(
        "eachgen", f"{FLUX} --seed {{t_seed}} --image_size {{t_size}} -o t_g", "{t_subject} {{x}}"
    )
    g = shell.user_ns["t_g"]
    assert g.prompt == "a red fox {x}"
    assert (g.seed, g.inputs["image_size"]) == (7, "square")


def test_a_missing_name_is_a_usage_error(shell, emulator):
    with pytest.raises(UsageError, match=r"\{t_nowhere\}.*no variable 't_nowhere'.*\{\{"):
        shell.run_cell_magic("eachgen", FLUX, "a {t_nowhere} cat")
    with pytest.raises(UsageError, match="t_gone"):
        shell.run_cell_magic("eachgen", f"{FLUX} --seed {{t_gone}}", "a cat")
    assert created(emulator) == 0


# -- several runs: one labelled grid -----------------------------------------------------------


def test_sweeps_and_prompts_make_one_labelled_grid(shell, displays, emulator):
    shell.run_cell_magic(
        "eachgen",
        f"{FLUX} --seed 1,2 --image_size square,landscape_16_9 -o t_r",
        "a red fox\n---\na blue cat\n",
    )
    results = shell.user_ns["t_r"]
    assert isinstance(results, Results)
    labels = [label for label, _ in results.items]
    assert labels == [
        f"{p} · seed={s} · image_size={i}"
        for p in ("a red fox", "a blue cat")
        for s in (1, 2)
        for i in ("square", "landscape_16_9")
    ]
    for (label, g), prompt in zip(
        results.items, ["a red fox"] * 4 + ["a blue cat"] * 4, strict=True
    ):
        assert isinstance(g, Generation) and g.prompt == prompt
        assert f"seed={g.seed}" in label and g.inputs["image_size"] in label
    assert created(emulator) == 8
    html = displays.final["text/html"]
    # three varying inputs: one titled matrix per prompt (seed rows, image_size columns)
    assert html.index(">a red fox</div>") < html.index(">a blue cat</div>")
    assert html.count("<table class='eachlabs-matrix'") == 2
    assert html.count("seed=2</th>") == 2 and html.count("image_size=landscape_16_9</th>") == 2


def test_a_list_in_the_namespace_sweeps(shell):
    shell.user_ns["t_seeds"] = range(3, 6)
    shell.run_cell_magic("eachgen", f"{FLUX} --seed {{t_seeds}} -o t_r", "a cat")
    assert [g.seed for g in shell.user_ns["t_r"]] == [3, 4, 5]


def test_several_models_each_take_the_inputs_they_know(shell, emulator):
    shell.run_cell_magic("eachgen", f"{FLUX},{NANO} --seed 3 --aspect_ratio 1:1 -o t_r", "a cat")
    results = shell.user_ns["t_r"]
    assert [label for label, _ in results.items] == [FLUX, NANO]
    flux, nano = results
    assert flux.seed == 3 and "aspect_ratio" not in flux.inputs
    assert nano.inputs["aspect_ratio"] == "1:1" and nano.model == NANO
    shell.run_cell_magic("eachgen", f"--model {NANO},{FLUX} -o t_s", "a dog")
    assert [g.model for g in shell.user_ns["t_s"]] == [NANO, FLUX]


def test_a_failed_run_shows_in_the_grid_and_a_single_failure_is_one_line(shell, capsys):
    shell.run_cell_magic("eachgen", f"{FLUX} -o t_r", "a cat\n---\n[moderate] a cat")
    ok, failed = shell.user_ns["t_r"].items
    assert isinstance(ok[1], Generation)
    assert failed[1].classification == "content_moderation"
    with pytest.raises(EachGenError, match="content moderation") as caught:
        shell.run_cell_magic("eachgen", FLUX, "[moderate] a dog")
    # the service's codes stay on the exception, out of the sentence a person reads
    assert "content_moderation" not in str(caught.value) and "[" not in str(caught.value)
    assert caught.value.error.classification == "content_moderation"
    capsys.readouterr()
    outcome = shell.run_cell(f"%%eachgen {FLUX}\n[moderate] a bird")
    shown = capsys.readouterr().out
    assert isinstance(outcome.error_in_exec, EachGenError)
    assert "EachGenError" in shown and "Traceback" not in shown
    assert shown.count("content moderation") == 1  # said once: not also in a static note


def test_timeout_is_one_line_and_names_resume(shell):
    with pytest.raises(EachGenError, match=r"did not finish within 0.05 s.*resume"):
        shell.run_cell_magic("eachgen", f"{NANO} --timeout 0.05", "a slow cat")


# -- reuse --------------------------------------------------------------------------------------


def test_identical_inputs_with_a_seed_reuse_unless_force(shell, emulator, displays):
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 5 -o t_a", "a cat")
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 5 -o t_b", "a cat")
    assert "$0 (reused)" in displays.final["text/html"]
    a, b = shell.user_ns["t_a"], shell.user_ns["t_b"]
    assert b.reused and b.id == a.id and created(emulator) == 1
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 5 --force -o t_c", "a cat")
    c = shell.user_ns["t_c"]
    assert not c.reused and c.id != a.id and created(emulator) == 2
    shell.run_cell_magic("eachgen", f"{FLUX} -o t_d", "a cat")  # no seed: never reused
    assert created(emulator) == 3


# -- settings -----------------------------------------------------------------------------------


def test_config_traits_are_applied(shell, displays, tmp_path):
    shell.run_line_magic("config", "EachGen.embed = 'none'")
    assert embed_mode() == "none"
    shell.run_line_magic("config", "EachGen.concurrency = 3")
    assert limiter.limit == 3
    shell.run_line_magic("config", "EachGen.output_dir = 'elsewhere'")
    shell.run_line_magic("config", "EachGen.timeout = 30.0")
    shell.run_line_magic("config", "EachGen.poll_interval = 0.5")
    shell.run_cell_magic("eachgen", f"{FLUX} -o t_g", "a cat")
    g = shell.user_ns["t_g"]
    assert g.paths and all(p.parent == Path("elsewhere") for p in g.paths)
    assert "data:image" not in displays.final["text/html"]  # embed none: a link to the file
    shell.run_cell_magic("eachgen", f"{FLUX} --embed thumbnail --output-dir '' -o t_h", "a cat")
    assert "data:image/jpeg" in displays.final["text/html"] and shell.user_ns["t_h"].paths == []
    magics = next(c for c in shell.configurables if isinstance(c, EachGen))
    assert (magics.timeout, magics.poll_interval) == (30.0, 0.5)
    with pytest.raises(Exception, match="concurrency"):
        magics.concurrency = 0


def test_config_from_the_shell_config_file_applies_at_load(shell):
    shell.run_line_magic("unload_ext", "eachlabs_widgets")
    shell.config.EachGen.default_model = NANO
    try:
        shell.run_line_magic("load_ext", "eachlabs_widgets")
        magics = next(c for c in shell.configurables if isinstance(c, EachGen))
        assert magics.default_model == NANO
    finally:
        del shell.config["EachGen"]


# -- line forms ---------------------------------------------------------------------------------


def test_models_table(shell):
    table = shell.run_line_magic("eachgen", "models")
    bundle = table._repr_mimebundle_()
    assert FLUX in table.column("slug") and len(table.rows) == len(load_catalog())
    assert "<table>" in bundle["text/html"] and FLUX in bundle["text/plain"]
    filtered = shell.run_line_magic("eachgen", "models nano")
    assert filtered.column("slug") == [NANO]


def test_schema_table(shell):
    table = shell.run_line_magic("eachgen", f"schema {FLUX}")
    rows = {row[0]: row for row in table.rows}
    assert rows["prompt *"][1] == "string"
    assert rows["image_size"][2] == "landscape_4_3" and "landscape_16_9" in rows["image_size"][3]
    flex = {row[0]: row for row in shell.run_line_magic("eachgen", "schema flux-2-flex").rows}
    assert flex["num_inference_steps"][3] == "2..50"
    assert "<td" in table._repr_mimebundle_()["text/html"]
    with pytest.raises(UsageError, match="unknown model"):
        shell.run_line_magic("eachgen", "schema nope-model")


def test_history_and_resume(shell, emulator):
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 1,2 -o t_r", "a cat")
    table = shell.run_line_magic("eachgen", "history 5")
    ids = [g.id for g in shell.user_ns["t_r"]]
    assert sorted(table.column("id")) == sorted(ids)
    assert set(table.column("status")) == {"success"}
    shell.run_line_magic("eachgen", f"resume {ids[0]} -o t_again")
    resumed = shell.user_ns["t_again"]
    assert resumed.id == ids[0] and resumed.images
    # the short id of captions and file names: a unique prefix is enough
    shell.run_line_magic("eachgen", f"resume {ids[1][:8]} -o t_short")
    assert shell.user_ns["t_short"].id == ids[1]
    assert created(emulator) == 2
    with pytest.raises(UsageError, match="not in the journal"):
        shell.run_line_magic("eachgen", "resume no-such-id")


def test_config_shows_settings_but_never_the_key(shell, monkeypatch):
    secret = "sk-very-secret-value-123"
    monkeypatch.setenv("EACHLABS_API_KEY", secret)
    table = shell.run_line_magic("eachgen", "config")
    rows = {row[0]: row for row in table.rows}
    assert rows["api key"][1:] == ["set", "EACHLABS_API_KEY"]
    assert rows["base_url"][1] == "emulator"
    assert rows["output_dir"][1] == "eachgen_outputs"
    bundle = table._repr_mimebundle_()
    assert secret not in bundle["text/plain"] and secret not in bundle["text/html"]
    monkeypatch.delenv("EACHLABS_API_KEY")
    rows = {row[0]: row for row in shell.run_line_magic("eachgen", "config").rows}
    assert rows["api key"][1] == "not set"


def test_panel_when_missing_and_when_present(shell, monkeypatch):
    monkeypatch.setitem(sys.modules, "eachlabs_widgets.panel", None)
    with pytest.raises(UsageError, match="panel is not available"):
        shell.run_line_magic("eachgen", "panel")
    module = types.ModuleType("eachlabs_widgets.panel")

    class Panel:
        def __init__(self, model=None, client=None):
            self.model, self.client = model, client

    module.Panel = Panel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "eachlabs_widgets.panel", module)
    assert shell.run_line_magic("eachgen", f"panel {NANO}").model == NANO
    assert shell.run_line_magic("eachgen", "panel").model is None
    panel = shell.run_line_magic("eachgen", "panel --emulator")
    assert panel.client.settings().is_emulator


def test_background_needs_a_running_loop(shell, emulator):
    with pytest.raises(UsageError, match="running event loop"):
        shell.run_cell_magic("eachgen", f"{FLUX} --background", "a cat")
    assert created(emulator) == 0


def test_history_says_when_it_leaves_out_other_sessions_emulator_runs(shell, monkeypatch):
    from eachlabs_widgets._journal import journal as _journal

    journal = _journal.default_journal()
    with monkeypatch.context() as patch:
        patch.setattr(_journal, "_session", "an-earlier-kernel")
        journal.created("t-elsewhere", FLUX, {"prompt": "a cat"}, "emulator")
    table = shell.run_line_magic("eachgen", "history 5")
    assert "t-elsewhere" not in table.column("id")
    assert "1 emulator prediction(s) of other sessions are not listed" in table.note
    assert "%eachgen history --all" in table.plain()
    everything = shell.run_line_magic("eachgen", "history 5 --all")
    assert "t-elsewhere" in everything.column("id")
