"""The engine: snapshot and inspection, names, the planner, the plan model and its files, the
action catalogue and the executor that journals, resumes and rolls back.

It talks to AWS only through the thin `migrator.aws` layer it is handed, and knows nothing of
the command line.
"""
