"""JupyterHub for the course, as `make hub` starts it: one instructor, N students, nbgrader's exchange,
and the autograder service that grades each submission and releases its feedback.

HUB_MODE=demo (default), so that it runs as any user on one machine: the `dummy` authenticator (one
shared password, HUB_PASSWORD) and the `simple` spawner (every server runs as the hub's own user,
in its own folder): nothing is private. HUB_MODE=class (the hub as root; hub.sh makes the accounts
and sets who may read what): PAM logs each person in with their own system account and password,
and the `localprocess` spawner runs each server as that account; the autograder runs as the
instructor. README.md, "Run the course on JupyterHub", says what changes beyond one machine.

Environment (hub.sh sets these): HUB_STATE (the hub's folder: database, homes, exchange; the course
copy in the instructor's home), HUB_MODE, HUB_STUDENTS (how many students), HUB_PASSWORD, HUB_PORT,
HUB_AUTOGRADE (0: no grading on submit); HUB_PROXY_API_PORT and HUB_INTERNAL_PORT (JupyterHub's
8001 and 8081 unless set) for a second hub on the same machine.
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
CLASS = os.environ.get("HUB_MODE", "demo") == "class"
# in the instructor's home: formgrader serves only a course under its user's server root
COURSE = STATE / "home" / INSTRUCTOR / "course"

# what every user's server and the autograder share: where the course and the exchange live
SHARED = {
    "TL_COURSE_ID": COURSE_ID,
    "TL_COURSE_ROOT": str(COURSE),
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

# --- who may log in, and as whom their servers run ----------------------------------------------
c.Authenticator.allowed_users = {INSTRUCTOR, *STUDENTS}
# No hub admins: JupyterHub's admin role may open every user's server, so a student's page could then
# run in the instructor's browser beside the instructor's own server (which lets formgrader be framed:
# user-config/jupyter_server_config.py). The instructor's tools are formgrader and the terminal.
c.Authenticator.admin_users = set()
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 60
if CLASS:
    # each person their own account and password; each server that account's process, in its home
    c.JupyterHub.authenticator_class = "pam"
    c.JupyterHub.spawner_class = "localprocess"
else:
    # demo: one shared password; every server the hub's own user, each in its own folder
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ.get("HUB_PASSWORD", "transfer-demo")
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
    if os.geteuid() == 0:  # a container or CI runner as root: the servers run as root too (no system users)
        c.Spawner.args = ["--allow-root"]
# user-config/ holds the nbgrader and server settings of every user (student or instructor)
c.Spawner.environment = {**SHARED, "JUPYTER_CONFIG_PATH": str(HERE / "user-config")}

# --- grading on submit (HUB_AUTOGRADE=0: the instructor grades by hand, with formgrader) ---------------
if os.environ.get("HUB_AUTOGRADE", "1") != "0":
    service = {
        "name": "autograder",
        "command": [sys.executable, str(HERE / "autograder.py")],
        "environment": SHARED,
        "cwd": str(COURSE),
    }
    if CLASS:  # what it writes into the course (reports, gradebook, feedback) stays the instructor's to edit
        service["user"] = INSTRUCTOR
    c.JupyterHub.services = [service]
