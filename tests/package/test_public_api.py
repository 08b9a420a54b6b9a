import subprocess
import sys

import eachlabs_widgets

PINNED = {
    "AsyncEachLabs",
    "Generation",
    "ModelForm",
    "Panel",
    "agenerate",
    "generate",
    "history",
    "lineage",
    "resume",
    "EachLabsError",
    "APIError",
    "AuthenticationError",
    "PaymentRequiredError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "InputValidationError",
    "BudgetExceededError",
    "PredictionFailedError",
    "PredictionCancelledError",
    "PredictionTimeoutError",
    "load_ipython_extension",
    "unload_ipython_extension",
    # finding work again
    "Recalled",
    "export",
    "find",
    "recall",
    "star",
    "tag",
    "untag",
}


def test_all_is_sorted_and_every_name_resolves():
    names = [n for n in eachlabs_widgets.__all__ if n != "__version__"]
    assert names == sorted(names)
    for name in eachlabs_widgets.__all__:
        assert getattr(eachlabs_widgets, name) is not None, name


def test_the_pinned_names_are_public():
    assert set(eachlabs_widgets.__all__) >= PINNED


def test_errors_form_the_documented_tree():
    e = eachlabs_widgets
    for cls in (
        e.AuthenticationError,
        e.PaymentRequiredError,
        e.NotFoundError,
        e.RateLimitError,
        e.ServerError,
    ):
        assert issubclass(cls, e.APIError)
    for cls in (e.PredictionFailedError, e.PredictionCancelledError, e.PredictionTimeoutError):
        assert issubclass(cls, e.PredictionError)
    for cls in (
        e.APIError,
        e.TransportError,
        e.InputValidationError,
        e.PredictionError,
        e.BudgetExceededError,
    ):
        assert issubclass(cls, e.EachLabsError)


def test_importing_the_package_has_no_side_effects():
    code = (
        "import sys, eachlabs_widgets\n"
        "heavy = [m for m in ('ipywidgets', 'IPython', 'eachlabs_widgets.emulator', 'PIL.Image') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
