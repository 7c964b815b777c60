"""gunicorn target: `gunicorn verwijsindex.wsgi:app`. Settings come from the environment."""

from verwijsindex import create_app

app = create_app()
