"""The lab's datasets: upload a file (raw body, size-limited), list and read them (every member),
delete them (owner or admin), and register worker folders (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from .. import datasets
from ..db import get_sessionmaker
from ..models import Dataset, DatasetBlob, User
from .deps import INT32, CurrentUser, SessionDep, SettingsDep, require_change

router = APIRouter(prefix="/datasets", tags=["datasets"])
UPLOAD_PATH = "/api/v1/datasets"  # BodyLimit leaves this one to the route, which has its own limit

DatasetId = Annotated[int, Path(ge=1, le=INT32)]
Name = Annotated[
    str,
    Query(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.,()+-]*$",
        description="the file name (it also tells CSV from other text)",
    ),
]
LabelColumn = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="a table's label column, for its class counts (default: label, y, target or class)",
    ),
]


class DatasetPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str = Field(
        description="table | images (an archive of <split>/<class>/*.jpg) | location (a folder on the workers)"
    )
    format: str | None
    sha256: str | None
    size: int | None
    path: str | None = Field(description="locations only: the folder on the workers")
    summary: dict[str, Any] = Field(
        description="tables: rows, columns, label_column, class_counts; archives: classes and images per split and class; "
        "'missing' says why a number is absent"
    )
    owner_id: int | None
    created_at: datetime


class LocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    path: str = Field(min_length=1, max_length=1000, pattern=r"^[^\x00-\x1f\x7f]+$")


def unprocessable(err: datasets.BadDataset, where: str = "query") -> HTTPException:
    loc = ["body"] if err.field == "file" else [where, err.field]
    return HTTPException(422, [{"loc": loc, "msg": str(err), "type": "value_error"}])


def _get(session, dataset_id: int) -> Dataset:
    row = session.get(Dataset, dataset_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"dataset {dataset_id} not found")
    return row


@router.post(
    "",
    response_model=DatasetPublic,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={
        413: {"description": "larger than IWLAB_MAX_DATASET_BYTES"},
        422: {"description": "not a readable table or image archive"},
    },
)
async def upload(
    request: Request, settings: SettingsDep, user: CurrentUser, name: Name, label_column: LabelColumn = None
) -> DatasetPublic:
    """Store a CSV, Parquet or NPZ table, or a .tar.gz of `<split>/<class>/*.jpg`, as the raw body.
    Stored by SHA-256 in the lab's store; a spec names it by the returned id (`dataset_id`)."""
    limit = settings.max_dataset_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"a dataset may be at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # refused as soon as it is too large, never buffered whole
            raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"a dataset may be at most {limit} bytes")
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise HTTPException(422, [{"loc": ["body"], "msg": "the file is empty", "type": "value_error"}])
    return await run_in_threadpool(_store, settings.db_url, data, name, user, label_column)


def _store(db_url: str, data: bytes, name: str, user: User, label_column: str | None) -> DatasetPublic:
    with get_sessionmaker(db_url)() as session:
        try:
            row = datasets.add(session, data, name, user.id, label_column)
        except datasets.BadDataset as err:
            raise unprocessable(err) from None
        session.commit()
        return DatasetPublic.model_validate(row)


@router.get("", response_model=list[DatasetPublic])
def list_datasets(session: SessionDep) -> list[DatasetPublic]:
    """Every dataset of the lab, oldest first: uploads and registered locations."""
    return [DatasetPublic.model_validate(r) for r in datasets.listing(session)]


@router.post(
    "/locations",
    response_model=DatasetPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "not an admin"},
        422: {"description": "a bad name or a relative path, or the name is taken"},
    },
)
def register_location(body: LocationCreate, session: SessionDep, user: CurrentUser) -> DatasetPublic:
    """Admins only: name a folder (or archive) on the workers that members may train on by that name."""
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin may register a location on the workers")
    try:
        row = datasets.register(session, body.name, body.path, user.id)
    except datasets.BadDataset as err:
        raise unprocessable(err, "body") from None
    session.commit()
    return DatasetPublic.model_validate(row)


@router.get("/{dataset_id}", response_model=DatasetPublic, responses={404: {"description": "no such dataset"}})
def get_dataset(dataset_id: DatasetId, session: SessionDep) -> DatasetPublic:
    return DatasetPublic.model_validate(_get(session, dataset_id))


@router.get(
    "/{dataset_id}/file",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        404: {"description": "no such dataset, or a location (no file)"},
    },
)
def download_dataset(dataset_id: DatasetId, session: SessionDep) -> Response:
    """The uploaded file's bytes (locations have none)."""
    row = _get(session, dataset_id)
    blob = session.get(DatasetBlob, row.sha256) if row.sha256 else None
    if blob is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"dataset {dataset_id} is a location on the workers, not a file")
    disposition = f'attachment; filename="{row.name}"'
    return Response(
        blob.data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": disposition, "ETag": f'"{row.sha256}"'},
    )


@router.delete(
    "/{dataset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"description": "neither its owner nor an admin"}, 404: {"description": "no such dataset"}},
)
def delete_dataset(dataset_id: DatasetId, session: SessionDep, user: CurrentUser) -> Response:
    """The owner or an admin; the bytes go once no other dataset holds them."""
    row = _get(session, dataset_id)
    require_change(user, row.owner_id, f"dataset {dataset_id}")
    datasets.remove(session, row)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
