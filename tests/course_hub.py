"""A course hub as `make hub` starts it, driven from outside: by the browser test and the benchmark."""

from __future__ import annotations

import os
import pwd
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
    """`hub.sh` with its state in `state`; commands run as a user runs them in a terminal on the hub.
    mode "class" (as root): each person a system account, and their commands run as that account."""

    def __init__(self, state: Path, students: int = 3, password: str = "hub-driver", mode: str = "demo"):
        self.state, self.port, self.mode = state, free_port(), mode
        self.url = f"http://127.0.0.1:{self.port}"
        self.course = state / "home" / "instructor" / "course"
        self._password = password
        self.env = {
            **os.environ,
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HUB_STATE": str(state),
            "HUB_MODE": mode,
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

    def password(self, user: str) -> str:
        """The demo's shared password, or the account's own (class mode: hub.sh writes them, root-only)."""
        if self.mode != "class":
            return self._password
        return dict(line.split() for line in (self.state / "passwords").read_text().splitlines())[user]

    def _account(self, user: str) -> dict:
        """subprocess arguments that run a command as `user`'s system account (class mode)."""
        if self.mode != "class":
            return {}
        account = pwd.getpwnam(user)
        return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": os.getgrouplist(user, account.pw_gid)}

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
            "TL_COURSE_ROOT": str(self.course),
            "TL_EXCHANGE": str(self.state / "exchange"),
            "HOME": str(home),
        }
        return subprocess.run(
            command, env=env, cwd=cwd or home, capture_output=True, text=True, timeout=300, **self._account(user)
        )

    def save(self, user: str, path: str, data: bytes) -> None:
        """A file in `user`'s home, theirs as if they had saved it."""
        target = self.state / "home" / user / path
        target.write_bytes(data)
        if self.mode == "class":
            account = pwd.getpwnam(user)
            os.chown(target, account.pw_uid, account.pw_gid)

    def release(self, assignment: str) -> None:
        done = self.as_user("instructor", "nbgrader", "release_assignment", assignment, "--force", cwd=self.course)
        assert done.returncode == 0, done.stderr[-2000:]

    def log(self) -> str:
        return (self.state / "jupyterhub.log").read_bytes().replace(b"\0", b"").decode("utf-8", "replace")

    def gradebook(self):
        """The course's gradebook, as formgrader and the autograder share it."""
        from nbgrader.api import Gradebook

        return Gradebook(f"sqlite:///{self.course / 'gradebook.db'}")

    def gradebook_score(self, student: str, assignment: str) -> float:
        with self.gradebook() as gradebook:
            return gradebook.find_submission(assignment, student).score

    def comments(self, student: str, assignment: str) -> list[str]:
        """The instructor's comments on a submission (the notebook has the assignment's name)."""
        with self.gradebook() as gradebook:
            notebook = gradebook.find_submission_notebook(assignment, assignment, student)
            return [c.manual_comment for c in notebook.comments]
