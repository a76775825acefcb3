"""The page in a real Chromium (Debian's `chromium`, driven by Playwright with the system
executable: nothing is downloaded). Each section is used as a person would, and a
screenshot of it is saved (to benchmarks/web/ when RNNLAB_SCREENSHOTS names that folder).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
pytest.importorskip("fastapi", reason="the serve extra is not installed")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

CHROMIUM = os.environ.get("RNNLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(
        "no Chromium to drive: apt-get install chromium (or set RNNLAB_CHROMIUM)",
        allow_module_level=True,
    )

from rnnlab import checkpoint as ckpt  # noqa: E402
from rnnlab import lm  # noqa: E402
from rnnlab.serve import create_app  # noqa: E402

from .serve_support import LiveServer, make_runs  # noqa: E402

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return make_runs(tmp_path_factory.mktemp("browser") / "runs")


@pytest.fixture(scope="module")
def server(runs):
    with LiveServer(create_app(runs)) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server, tmp_path):
    # The page's own policy forbids eval, which Playwright's wait_for_function uses.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # (a 4xx the page asked for and shows, like a bad key, is logged as a failed load: fine)
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")
            and errors.append(m.text)
        ),
    )
    yield page
    context.close()
    assert not errors, errors


def open_tab(page, server, tab: str) -> None:
    page.goto(f"{server.url}/#{tab}")
    page.wait_for_selector("body[data-ready=true]")


def screenshot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("RNNLAB_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_cipher_encrypts_as_you_type_and_decrypts_back(page, server, tmp_path):
    open_tab(page, server, "cipher")
    assert page.input_value("#cipher-output") == "Uryyb, Jbeyq"  # caesar's default key 13
    page.select_option("#cipher-name", "vigenere")
    page.fill("#cipher-alphabet", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    page.fill("#cipher-key", "LEMON")
    page.fill("#cipher-input", "Attack at dawn")
    page.wait_for_function("document.querySelector('#cipher-output').value === 'Lxfopv ef rnhr'")
    screenshot(page, "cipher", tmp_path)
    page.click("#cipher-swap")  # the result becomes the input, decrypted
    page.wait_for_function("document.querySelector('#cipher-output').value === 'Attack at dawn'")
    page.fill("#cipher-key", "L3MON")
    page.wait_for_selector("#cipher-error:has-text('not in the alphabet')")


def test_crack_a_caesar_text(page, server, tmp_path):
    open_tab(page, server, "crack")
    page.click("#crack-example")
    page.wait_for_selector("#crack-result:not([hidden])")
    assert page.inner_text("#crack-family") == "caesar"
    assert page.inner_text("#crack-key") == "7"
    assert page.input_value("#crack-plaintext").startswith("It was the best of times")
    assert "identified" in page.inner_text("#crack-confidence-text")
    screenshot(page, "crack", tmp_path)


def test_runs_lists_every_run_and_draws_a_curve(page, server, tmp_path):
    open_tab(page, server, "runs")
    page.wait_for_selector("tr[data-run=curves]")
    assert page.locator("#runs-table tbody tr").count() == 5
    page.click("tr[data-run=curves]")
    page.wait_for_selector("#run-loss[data-points]:not([data-points='0'])")
    # something was drawn in the curves' colour, not only the axes
    blue = page.evaluate(
        """() => {
        const c = document.querySelector('#run-loss');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 80 && d[i+1] < 120 && d[i+2] > 180) n++;
        return n;
    }"""
    )
    assert blue > 200
    screenshot(page, "runs", tmp_path)


def test_decrypt_the_seed_example_with_the_seed_task_run(page, server, tmp_path):
    open_tab(page, server, "decrypt")
    page.wait_for_selector("#decrypt-run option[value=seed_tagger]", state="attached")
    page.select_option("#decrypt-run", "seed_tagger")
    page.fill("#decrypt-input", "FUVEMVEMNMERPDRF")
    page.wait_for_function("document.querySelector('#decrypt-output').value === 'THIS-IS-A-SECRET'")
    assert page.is_hidden("#decrypt-key-label")  # a fixed-key run takes no key
    screenshot(page, "decrypt", tmp_path)
    page.select_option("#decrypt-run", "vigenere_given")
    assert page.is_visible("#decrypt-key-label")
    page.wait_for_selector("#decrypt-error:has-text('key')")


def test_generate_streams_the_sample_the_library_draws(page, server, runs, tmp_path):
    want = "".join(lm.sample(lm.load(runs / "tiny_lm"), "T", 300, 0.8, 0, 1.0, 3))
    open_tab(page, server, "generate")
    page.wait_for_selector("#gen-run option[value=tiny_lm]", state="attached")
    page.select_option("#gen-run", "tiny_lm")
    page.fill("#gen-prime", "T")
    page.fill("#gen-length", "300")
    page.fill("#gen-seed", "3")
    page.click("#gen-go")
    page.wait_for_selector("#gen-status:has-text('300 characters')")
    assert page.inner_text("#gen-prime-out") == "T"
    assert page.text_content("#gen-text") == want
    screenshot(page, "generate", tmp_path)


def test_start_training_watch_the_curve_and_stop(page, server, runs, tmp_path):
    open_tab(page, server, "train")
    page.fill("#train-steps", "100000")
    page.click("#train-go")
    page.wait_for_selector("#train-status[data-state=running]")
    # a curve of a few logged points (every 10 steps), then the stop button
    page.wait_for_function("Number(document.querySelector('#train-loss').dataset.points || 0) >= 3")
    page.click("#train-stop")
    page.wait_for_selector("#train-status[data-state=stopped]")
    status = page.inner_text("#train-status")
    assert "stopped and saved" in status
    step = ckpt.weights_step(runs / "decipher-caesar")
    assert step and f"step {step} / 100000" in status
    assert page.is_enabled("#train-go") and page.is_disabled("#train-stop")
    screenshot(page, "train", tmp_path)


def field_value(page, name: str) -> str:
    return page.input_value(f"#train-{name.replace('_', '-')}")


def test_the_train_form_is_made_from_the_declared_options(page, server, tmp_path):
    from rnnlab.options import DECIPHER, LM

    open_tab(page, server, "train")
    page.wait_for_selector("#train-form[data-ready=true]")
    for option in DECIPHER:
        selector = f"#train-{option.name.replace('_', '-')}"
        if option.file:  # a file on the server is the command line's
            assert page.query_selector(selector) is None
            continue
        element = page.query_selector(selector)
        assert element is not None, option.name
        value = option.default_for("tagger")
        if option.kind in ("int", "float") and value is not None:
            assert float(page.input_value(selector)) == value, option.name
            low, high = option.minimum or option.above, option.maximum or option.below
            if low is not None:
                assert float(element.get_attribute("min")) == low, option.name
            if high is not None:
                assert float(element.get_attribute("max")) == high, option.name
        if option.choices and option.name != "cipher":
            shown = element.eval_on_selector_all("option", "os => os.map(o => o.value)")
            assert [c for c in shown if c] == list(option.web_choices or option.choices)
    # the defaults follow the architecture the server resolves from the fields
    page.select_option("#train-arch", "keyed")
    page.wait_for_function("document.querySelector('#train-hidden').value === '256'")
    assert field_value(page, "key_mode") == "given"
    assert page.is_hidden("#train-layers")  # the keyed model takes no layers
    # and the preset's, for a language model
    page.check("input[name=train-task][value=lm]")
    steps = LM["steps"].default_for("cpu")
    page.wait_for_function(f"document.querySelector('#train-steps').value === '{steps}'")
    assert "mogrifier" in page.inner_text("#train-model")
    # a bound is refused in the form's words, before anything is sent
    page.fill("#train-steps", str(10**12))
    page.click("#train-go")
    error = page.inner_text("#train-error")
    assert error.startswith("Steps must be at most") and "--" not in error
    screenshot(page, "train-form", tmp_path)


def test_train_a_given_key_vigenere_model_from_the_form(page, server, runs):
    open_tab(page, server, "train")
    page.wait_for_selector("#train-form[data-ready=true]")
    page.select_option("#train-cipher", "vigenere")
    page.select_option("#train-key-mode", "given")
    page.fill("#train-key-length", "3-5")
    page.fill("#train-hidden", "16")
    page.fill("#train-val-examples", "16")
    page.fill("#train-eval-every", "5")
    page.fill("#train-steps", "10")
    page.press("#train-steps", "Enter")  # Enter in a field starts it, as the button does
    page.wait_for_selector("#train-status[data-state=done]")
    name = page.inner_text("#train-status").split(":")[0]
    config = ckpt.read_config(runs / name)
    assert config["architecture"] == "keyed" and config["data"]["key_length"] == "3-5"
    assert config["model"]["hidden"] == 16 and config["train"]["steps"] == 10
