"""A course hub as `make hub` starts it, driven from outside: by the browser test and the benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUB_SCRIPT = ROOT / "deploy" / "jupyterhub" / "hub.sh"
BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """`hub.sh` with its state in `state`; commands run as a user runs them in a terminal on the hub."""

    def __init__(self, state: Path, students: int = 3, password: str = "hub-driver"):
        self.state, self.port = state, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HUB_STATE": str(state),
            "HUB_PORT": str(self.port),
            # a test starts a second hub beside the first: nothing may listen on JupyterHub's fixed ports
            "HUB_PROXY_API_PORT": str(free_port()),
            "HUB_INTERNAL_PORT": str(free_port()),
            "HUB_STUDENTS": str(students),
            "HUB_PASSWORD": password,
            "HUB_BIN": str(BIN),
        }

    def script(self, action: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(HUB_SCRIPT), action], env=self.env, capture_output=True, text=True, timeout=180)

    def as_user(self, user: str, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """A command as it runs in `user`'s terminal on the hub (their nbgrader settings, their home)."""
        home = self.state / "home" / user
        home.mkdir(parents=True, exist_ok=True)
        env = {
            **self.env,
            "JUPYTER_CONFIG_PATH": str(ROOT / "deploy" / "jupyterhub" / "user-config"),
            "JUPYTERHUB_USER": user,
            "TL_COURSE_ID": "transfer-learning",
            "TL_INSTRUCTOR": "instructor",
            "TL_COURSE_ROOT": str(self.state / "course"),
            "TL_EXCHANGE": str(self.state / "exchange"),
            "HOME": str(home),
        }
        return subprocess.run(command, env=env, cwd=cwd or home, capture_output=True, text=True, timeout=300)

    def release(self, assignment: str) -> None:
        done = self.as_user(
            "instructor", "nbgrader", "release_assignment", assignment, "--force", cwd=self.state / "course"
        )
        assert done.returncode == 0, done.stderr[-2000:]

    def log(self) -> str:
        return (self.state / "jupyterhub.log").read_bytes().replace(b"\0", b"").decode("utf-8", "replace")

    def gradebook_score(self, student: str, assignment: str) -> float:
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.state / 'course' / 'gradebook.db'}") as gradebook:
            return gradebook.find_submission(assignment, student).score
