"""The shell: argument parsing, one handler per command, the wizard, prompts and output.

Everything that knows about a terminal, flags or exit statuses lives here; it calls the use
cases and renders their results as text or JSON.
"""
