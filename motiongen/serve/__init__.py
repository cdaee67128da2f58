"""The motiongen web service: a REST API over ``motiongen.Pipeline`` (``motiongen serve``).

``create_app(ServeSettings(store=...))`` builds the FastAPI app; see ``docs/serving.md``.
"""

from motiongen.serve.settings import ServeSettings


def create_app(settings: ServeSettings):  # noqa: ANN201 - FastAPI is imported lazily
    """The FastAPI application for ``settings`` (see ``motiongen.serve.app``)."""
    from motiongen.serve.app import create_app as _create

    return _create(settings)


__all__ = ["ServeSettings", "create_app"]
