"""The Celery app with the Flask app bound, for `celery -A app.worker` and `loupe worker`."""

from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
