"""nbgrader settings for this course: one course directory, the repository itself."""

import os

c = get_config()  # noqa: F821 (injected by nbgrader)

root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "transfer-learning"
c.CourseDirectory.root = root
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = os.environ.get("NBGRADER_DB_URL", f"sqlite:///{os.path.join(root, 'gradebook.db')}")

# Students see one clear stub per graded task.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Whole notebooks train small models on two CPU cores: give cells room, not forever.
c.ExecutePreprocessor.timeout = 900
c.Execute.timeout = 900

# The feedback students fetch shows the grader's report (each hidden check and what to fix) first.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "grader.nbgrader_feedback.InsertGraderReport",
]
