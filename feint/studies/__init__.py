"""Studies: the methodology of measuring what synthetic data is worth, declared in one file.

Importing the package registers the built-in study steps (feint/studies/steps.py), so a study file's
`steps:` is checked against them wherever a study is loaded from.
"""

from feint.studies import steps  # noqa: F401 (imported for its registrations)
