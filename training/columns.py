"""Column names of the customer-purchase dataset (the public "ml_datasource" schema)."""

from __future__ import annotations

COUNTRY = "student_country"
DAYS_ON_PLATFORM = "days_on_platform"
MINUTES_WATCHED = "minutes_watched"
COURSES_STARTED = "courses_started"
EXAMS_STARTED = "practice_exams_started"
EXAMS_PASSED = "practice_exams_passed"
MINUTES_ON_EXAMS = "minutes_spent_on_exams"
PURCHASED = "purchased"

CATEGORICAL_INPUTS: tuple[str, ...] = (COUNTRY,)
NUMERIC_INPUTS: tuple[str, ...] = (
    DAYS_ON_PLATFORM,
    MINUTES_WATCHED,
    COURSES_STARTED,
    EXAMS_STARTED,
    EXAMS_PASSED,
    MINUTES_ON_EXAMS,
)
INPUT_COLUMNS: tuple[str, ...] = CATEGORICAL_INPUTS + NUMERIC_INPUTS
