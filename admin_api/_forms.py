"""Request parsing shared by the labour screens: JSON or multipart fields, uploads, query flags."""

from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.request import RequestParameters

from realname import error_codes as E
from realname.errors import ValidationError
from realname.web import body_of
from services.units import Upload


def is_form(request: Request) -> bool:
    """Whether the body is a form (multipart uploads or url-encoded)."""
    ctype = (request.content_type or "").lower()
    return ctype.startswith("multipart/form-data") or ctype.startswith(
        "application/x-www-form-urlencoded"
    )


def form_of(request: Request) -> RequestParameters:
    """The parsed form fields of a form request, or a ValidationError when it cannot be parsed."""
    form = request.form
    if form is None:
        raise ValidationError(code=E.MALFORMED_FORM.code)
    return form


def files_of(request: Request) -> RequestParameters:
    """The uploaded files of a form request, or a ValidationError when it cannot be parsed."""
    files = request.files
    if files is None:
        raise ValidationError(code=E.MALFORMED_FORM.code)
    return files


def fields_of(request: Request) -> dict[str, Any]:
    """The request's fields: a multipart/url-encoded form or a JSON object."""
    if is_form(request):
        form = form_of(request)
        return {key: form.get(key) for key in form}
    return body_of(request)


def upload_of(request: Request, name: str = "file") -> tuple[bytes, str] | None:
    """The (bytes, original file name) of an uploaded file field, or None."""
    if not is_form(request):
        return None
    upload = files_of(request).get(name)
    if upload is None:
        return None
    return upload.body, upload.name or ""


def uploads_of(request: Request) -> dict[str, list[Upload]]:
    """The non-empty files of a multipart form by field name (none for JSON bodies)."""
    if not is_form(request):
        return {}
    uploads = {
        k: [Upload(data=f.body, name=f.name or "") for f in v if f.body]
        for k, v in (files_of(request) or {}).items()
    }
    return {k: v for k, v in uploads.items() if v}


def upload_named(request: Request, name: str) -> Upload | None:
    """The first non-empty file uploaded under `name`, if any."""
    found = uploads_of(request).get(name) or []
    return found[0] if found else None
