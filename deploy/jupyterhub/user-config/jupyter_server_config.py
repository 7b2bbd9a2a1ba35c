"""Server settings of every user's server on the course hub."""

import os

c = get_config()  # noqa: F821 (injected by Jupyter)

if os.environ.get("JUPYTERHUB_USER") == os.environ["TL_INSTRUCTOR"]:
    # Nbgrader > Formgrader shows formgrader in a frame of JupyterLab; JupyterHub's default policy
    # (frame-ancestors 'none', since 4.1) leaves that tab blank. The instructor's server lets pages of
    # the hub's own origin frame it. That is safe while no page of that origin that a student wrote
    # opens in the instructor's browser: the instructor is no hub admin, so cannot open students'
    # servers (jupyterhub_config.py). With subdomains (JupyterHub.subdomain_host) each server has its
    # own origin and 'self' means the instructor's server alone.
    c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
else:
    # students do not get the instructor's tools
    c.ServerApp.jpserver_extensions = {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False,
    }

# A terminal as the server's own environment: without this, jupyter_server starts a login shell,
# and Debian's /etc/profile resets PATH, so `nbgrader` and the course's python are not found.
c.ServerApp.terminado_settings = {"shell_command": ["/bin/bash"]}
