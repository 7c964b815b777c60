"""The README's commands and the demo's printed commands work as written (issue 14, items
11 and 12), against a real `make demo` on a free port, on SQLite.

The README stays the source: every ```sh block in it must be marked `<!-- tested -->`, and
each such block runs as one bash session (`set -e`, so every command must succeed) in a
folder like a fresh checkout (`.venv` linked to this one's), with the server's keys and
database. Only what the README documents is substituted: the port where `8080` stands (the
README says `make demo PORT=...` serves elsewhere) and the ids the demo printed where a
block names them as a placeholder in capitals.

The quick start's `make test` is this suite itself: it is checked by make's dry run, not run
from inside it. The one-line install "without make" needs PyPI and is not run here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHILD_BSN
from tests.servers import free_port

REPOSITORY = Path(__file__).resolve().parents[2]
README = REPOSITORY / "README.md"
MARKER = "<!-- tested -->"
STARTUP_SECONDS = 180  # `make demo` may first install the runtime lock into .venv
_SHELL = {"sh", "bash", "shell", "console"}


@dataclass(frozen=True)
class Block:
    line: int
    body: str


def readme_blocks() -> list[Block]:
    """Every shell block of the README, with the line it starts on; unmarked ones fail."""
    lines = README.read_text(encoding="utf-8").splitlines()
    blocks, index = [], 0
    while index < len(lines):
        fence = re.fullmatch(r"```([a-z]*)", lines[index].strip())
        if fence is None:
            index += 1
            continue
        end = lines.index("```", index + 1)
        if fence.group(1) in _SHELL:
            where = f"README.md:{index + 1}"
            assert index > 0 and lines[index - 1].strip() == MARKER, (
                f"{where}: a shell block without {MARKER} before it"
            )
            blocks.append(Block(index + 1, "\n".join(lines[index + 1 : end]) + "\n"))
        index = end + 1
    return blocks


def commands_of(script: str) -> list[str]:
    """Logical command lines (continuations joined), without comments or blank lines."""
    joined = re.sub(r"\\\n", " ", script)
    commands = []
    for line in joined.splitlines():
        command = re.sub(r"\s+#\s.*$", "", line).strip()
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


def json_documents(text: str) -> list[Any]:
    """The JSON documents in a session's output (curl prints no newline after a body)."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    while (start := text.find("{", position)) != -1:
        try:
            document, position = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            position = start + 1
            continue
        documents.append(document)
    return documents


@dataclass
class Demo:
    port: int
    printed: str
    environment: dict[str, str]
    checkout: Path  # where the sessions run: like a fresh clone, with this .venv

    def session(self, script: str, placeholders: dict[str, str]) -> str:
        for name, value in placeholders.items():
            script = script.replace(name, value)
        script = re.sub(r"\b(localhost|127\.0\.0\.1):8080\b", rf"\1:{self.port}", script)
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=self.checkout,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, (script, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        return result.stdout

    def ids(self) -> dict[str, str]:
        """The demo's people by first name, as printed: JAN_ID, FATIMA_ID."""
        found = re.findall(r"^  (\w+) .*\n    professional id: (\S+)$", self.printed, re.M)
        return {f"{first.upper()}_ID": pid for first, pid in found}


def _healthy(port: int) -> bool:
    try:
        url = f"http://127.0.0.1:{port}/api/v1/health"
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _start_line() -> str:
    (start,) = [b for b in readme_blocks() if "make demo" in b.body]
    commands = commands_of(start.body)
    assert commands == ["make demo", "make test"], commands
    return commands[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The README's `make demo`, as written plus `PORT=` (documented), in this checkout,
    with keys and database of its own, in a process group of its own (make, serve and
    gunicorn end together)."""
    state = tmp_path_factory.mktemp("demo-state")
    checkout = tmp_path_factory.mktemp("checkout")
    (checkout / ".venv").symlink_to(REPOSITORY / ".venv")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VERWIJSINDEX_")}
    environment.update(
        VERWIJSINDEX_DATABASE_URL=f"sqlite:///{state / 'demo.db'}",
        VERWIJSINDEX_KEYS_DIR=str(state / "keys"),
    )
    environment.pop("VIRTUAL_ENV", None)
    port = free_port()
    output = state / "make-demo.txt"
    with output.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", f"{_start_line()} PORT={port}"],
            cwd=REPOSITORY,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(port):
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.5)
        yield Demo(port, output.read_text(), environment, checkout)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_every_shell_block_of_the_readme_is_marked_tested() -> None:
    blocks = readme_blocks()  # fails on an unmarked one
    assert len(blocks) >= 3


def test_every_image_and_relative_link_of_the_readme_exists() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert any(t.startswith("docs/screenshots/") for t in local)
    missing = [t for t in local if not (REPOSITORY / t).exists()]
    assert missing == []


def test_the_demo_prints_ids_and_commands_that_work_as_printed(demo: Demo) -> None:
    printed = demo.printed
    assert CHILD_BSN not in printed
    assert len(re.findall(r"organisation id: [0-9a-f-]{36}$", printed, re.M)) == 3
    assert set(demo.ids()) == {"FATIMA_ID", "JAN_ID"}
    # The commands: indented lines starting a curl, an export or the program, with their
    # continuation lines.
    lines = printed.splitlines()
    commands: list[str] = []
    for index, line in enumerate(lines):
        if re.match(r"  (curl |export |\S*verwijsindex )", line):
            command, rest = line, index
            while command.endswith("\\"):
                rest += 1
                command += "\n" + lines[rest]
            commands.append(command.strip())
    assert len(commands) == 3, commands
    assert any("$(" in c and " token --professional " in c for c in commands)
    output = demo.session("\n".join(commands), {})
    answers = json_documents(output)
    assert len(answers) == 2, output  # one list of matches per curl
    for page in answers:
        (match,) = page["items"]
        assert match["type"] == "client"
        assert len({p["organisation"] for p in match["participants"]}) == 2


def test_the_make_test_of_the_quick_start_is_a_target(demo: Demo) -> None:
    result = subprocess.run(
        ["make", "-n", "test"], cwd=REPOSITORY, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "-m pytest" in result.stdout


def test_the_readme_cli_session_runs_as_written(demo: Demo) -> None:
    (session,) = [b for b in readme_blocks() if "verwijsindex db upgrade" in b.body]
    output = demo.session(session.body, demo.ids())
    assert re.search(r"^verwijsindex \d+\.\d+\.\d+$", output, re.M), output
    assert "OBS De Linde" in output and "a.jansen@delinde.example" in output
    # Its own database, in the checkout's instance/: the demo's was not touched.
    assert (demo.checkout / "instance" / "try-out.db").exists()


def test_registering_a_signal_as_the_readme_shows_creates_it_with_a_family_match(
    demo: Demo,
) -> None:
    (register,) = [b for b in readme_blocks() if "/api/v1/signals" in b.body]
    output = demo.session(register.body, demo.ids())
    (signal_,) = json_documents(output)
    assert signal_["status"] == "active", signal_
    assert [m["type"] for m in signal_["matches"]] == ["family"], signal_


def test_the_readme_federation_demo_shows_a_cross_region_match() -> None:
    """`make federation-demo` as the README's block says, on free ports (documented
    `FEDERATION_DEMO_PORTS`): key holder, hub and two regions as real processes, and each
    region's matches name the other region's professional with its region."""
    (block,) = [b for b in readme_blocks() if "federation-demo" in b.body]
    assert commands_of(block.body) == ["make federation-demo"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VERWIJSINDEX_")}
    environment["FEDERATION_DEMO_PORTS"] = " ".join(str(free_port()) for _ in range(4))
    environment.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.body],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        start_new_session=True,
    )
    assert result.returncode == 0, (result.stdout[-4000:], result.stderr[-4000:])
    answers = json_documents(result.stdout)
    assert len(answers) == 2, result.stdout
    seen = [
        {(p["name"], p["region"]) for m in a["items"] for p in m["participants"]} for a in answers
    ]
    assert seen == [
        {("Anna Akkerman", None), ("Carla Claes", "regio-b")},
        {("Carla Claes", None), ("Anna Akkerman", "regio-a")},
    ]
