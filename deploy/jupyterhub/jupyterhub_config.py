"""JupyterHub for the course, as `make hub` starts it: one instructor, N students, nbgrader's exchange,
and the autograder service that grades each submission and releases its feedback.

Demo settings, chosen so that it runs as any user on one machine: the `dummy` authenticator (one
shared password, HUB_PASSWORD) and the `simple` spawner (every server runs as the hub's own user,
in its own folder). README.md, "Run the course on JupyterHub", says what to change for a real class.

Environment (the Makefile sets these): HUB_STATE (the hub's folder: database, homes, exchange,
course copy), HUB_STUDENTS (how many students), HUB_PASSWORD, HUB_PORT, HUB_AUTOGRADE (0: no grading
on submit); HUB_PROXY_API_PORT and HUB_INTERNAL_PORT (JupyterHub's 8001 and 8081 unless set) for a
second hub on the same machine.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (injected by JupyterHub)

HERE = Path(__file__).resolve().parent
STATE = Path(os.environ["HUB_STATE"]).resolve()
BIN = Path(sys.executable).parent  # the course's environment: the same pinned packages as the grader
COURSE_ID = "transfer-learning"
INSTRUCTOR = "instructor"
STUDENTS = [f"student{i}" for i in range(1, int(os.environ.get("HUB_STUDENTS", "3")) + 1)]

# what every user's server and the autograder share: where the course and the exchange live
SHARED = {
    "TL_COURSE_ID": COURSE_ID,
    "TL_COURSE_ROOT": str(STATE / "course"),
    "TL_EXCHANGE": str(STATE / "exchange"),
    "TL_INSTRUCTOR": INSTRUCTOR,
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
}

c.JupyterHub.bind_url = f"http://127.0.0.1:{os.environ.get('HUB_PORT', '8000')}"
# the proxy's API and the hub's own port, private to the machine: two hubs side by side need their own
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('HUB_PROXY_API_PORT', '8001')}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('HUB_INTERNAL_PORT', '8081')}"
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")

# --- who may log in (demo: one shared password; see the README for a real authenticator) ---------
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ.get("HUB_PASSWORD", "transfer-demo")
c.Authenticator.allowed_users = {INSTRUCTOR, *STUDENTS}
c.Authenticator.admin_users = {INSTRUCTOR}

# --- where their servers run (demo: as the hub's user, each in its own home folder) -------------
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
if os.geteuid() == 0:  # a container or CI runner as root: the servers run as root too (the demo has no system users)
    c.Spawner.args = ["--allow-root"]
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 60
# user-config/ holds the nbgrader and server settings of every user (student or instructor)
c.Spawner.environment = {**SHARED, "JUPYTER_CONFIG_PATH": str(HERE / "user-config")}

# --- grading on submit (HUB_AUTOGRADE=0: the instructor grades by hand, with formgrader) ---------------
if os.environ.get("HUB_AUTOGRADE", "1") != "0":
    c.JupyterHub.services = [
        {
            "name": "autograder",
            "command": [sys.executable, str(HERE / "autograder.py")],
            "environment": {**SHARED, "HUB_STATE": str(STATE)},
            "cwd": str(STATE / "course"),
        }
    ]
