"""gunicorn target: `gunicorn verwijsindex.wsgi:app`. Settings come from the environment.

Prefer `verwijsindex serve`: it also sets the request limits, the worker class that answers
gunicorn's own refusals as problem+json, and the access log without paths, query strings
or client-chosen headers (`verwijsindex.cli.setup.GUNICORN_SAFETY_OPTIONS`). Running
gunicorn by hand, pass those options too: its default access log format writes the query
string, where a client may have put a BSN.
"""

from verwijsindex import create_app

app = create_app()
