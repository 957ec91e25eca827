"""Regression checks over recorded sessions (issue #34): `python -m regression <command>`.

Today one command, `consistency` (`regression.consistency`): how stable the judge's scores are
over repeated evaluations of the same session records. Record folders are read and checked by
`regression.records`; a folder that cannot be used stops the command with one line, exit 2.
"""
