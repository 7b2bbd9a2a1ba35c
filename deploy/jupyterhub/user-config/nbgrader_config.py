"""nbgrader settings of every user's server on the course hub (found through JUPYTER_CONFIG_PATH).

Students: their nbgrader id is their hub name (all servers run as one system user in the demo, so
the system user name would name every submission alike). The instructor: the course folder.
"""

import os

c = get_config()  # noqa: F821 (injected by nbgrader)

c.CourseDirectory.course_id = os.environ["TL_COURSE_ID"]
c.Exchange.root = os.environ["TL_EXCHANGE"]
user = os.environ.get("JUPYTERHUB_USER", "")
if user == os.environ["TL_INSTRUCTOR"]:
    c.CourseDirectory.root = os.environ["TL_COURSE_ROOT"]
else:
    c.CourseDirectory.student_id = user
