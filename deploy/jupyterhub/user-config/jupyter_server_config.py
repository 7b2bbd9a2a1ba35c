"""Server settings of every user's server on the course hub: students do not get the instructor's tools."""

import os

c = get_config()  # noqa: F821 (injected by Jupyter)

if os.environ.get("JUPYTERHUB_USER") != os.environ["TL_INSTRUCTOR"]:
    c.ServerApp.jpserver_extensions = {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False,
    }
