"""API error type shared by the request handlers."""

from __future__ import annotations

_CODES = {
    400: "InvalidInput",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def default_code(status: int) -> str:
    """Fivetran-style machine code for an HTTP status.

    Args:
        status: HTTP status code.

    Returns:
        The ``code`` to put in the error body.
    """
    return _CODES.get(status, "Error")


class ApiError(Exception):
    """An error answered as ``{"code": ..., "message": ...}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Create the error.

        Args:
            status: HTTP status code.
            code: Machine-readable code (``NotFound_Connection``...).
            message: Human-readable message.
        """
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, str]:
        """The JSON error body.

        Returns:
            ``{"code": ..., "message": ...}``.
        """
        return {"code": self.code, "message": self.message}


def not_found(entity: str, entity_id: str, *, prefixed: bool = False) -> ApiError:
    """404 for an unknown entity id.

    Fivetran answers a bare ``NotFound`` ("Connection with id X not found") for most
    objects; ``prefixed`` gives the older ``NotFound_<Entity>`` code instead (a switch
    for tolerance tests: both exist in the wild).

    Args:
        entity: Entity name (``Connection``, ``Group``...).
        entity_id: The id that was requested.
        prefixed: Use ``NotFound_<Entity>`` as the code.

    Returns:
        The error.
    """
    if prefixed:
        return ApiError(
            404, f"NotFound_{entity}", f"{entity} with id '{entity_id}' does not exist."
        )
    return ApiError(404, "NotFound", f"{entity} with id '{entity_id}' not found")


def invalid(message: str) -> ApiError:
    """400 ``InvalidInput``.

    Args:
        message: What is wrong.

    Returns:
        The error.
    """
    return ApiError(400, "InvalidInput", message)
