"""``%%eachgen`` with a :class:`Lora`: the family table decides where it goes."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from eachlabs_widgets import Lora, history

WEIGHTS = "https://cdn.example/files/p1/0.safetensors"


def test_a_lora_in_a_cell_is_sent_as_path_and_scale_with_its_trigger(shell, emulator):
    # A FLUX.2 LoRA a user brings: weights no trainer here stamped, which the emulator takes
    # (the record cannot tell their family); what was sent is in the journal.
    shell.user_ns["t_mine"] = Lora(WEIGHTS, "flux-2-lora", trigger="TOK", scale=0.7)
    shell.run_cell_magic("eachgen", "flux-2-lora --loras {t_mine}", "a portrait")
    [entry] = history(1)
    assert entry.status == "success"
    assert entry.model == "flux-2-lora"
    assert entry.inputs["prompt"] == "TOK, a portrait"
    assert entry.inputs["loras"] == [{"path": WEIGHTS, "scale": 0.7}]


def test_a_lora_of_another_family_is_one_usage_error_naming_its_model(shell, emulator):
    shell.user_ns["t_trained"] = Lora(WEIGHTS, "bfl-flux-lora", trainer="flux-turbo-trainer")
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("eachgen", "flux-2-lora --loras {t_trained}", "a portrait")
    message = str(info.value)
    assert "'bfl-flux-lora'" in message and "FLUX.1 [dev]" in message
    assert emulator.stats.predictions_created == 0
