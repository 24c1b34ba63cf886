"""Tests of the /api/tasks endpoints and their rules."""
import datetime

import pytest
from fastapi.testclient import TestClient


@pytest.fixture()
def owner(client: TestClient) -> int:
    """The id of a user who owns the tasks."""
    response = client.post("/api/users", json={"email": "o@example.com", "full_name": "O"})
    return response.json()["id"]


def test_create_task(client: TestClient, owner: int) -> None:
    """A task starts in the todo state."""
    response = client.post("/api/tasks", json={"title": "write", "owner_id": owner})
    assert response.status_code == 201
    assert response.json()["status"] == "todo"


def test_due_date_in_past(client: TestClient, owner: int) -> None:
    """A due date in the past is refused."""
    past = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    response = client.post(
        "/api/tasks", json={"title": "late", "owner_id": owner, "due_date": past}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("new_status,code", [("done", 422), ("in_progress", 200)])
def test_transitions(client: TestClient, owner: int, new_status: str, code: int) -> None:
    """todo may move to in_progress only."""
    task = client.post("/api/tasks", json={"title": "flow", "owner_id": owner}).json()
    response = client.patch(f"/api/tasks/{task['id']}", json={"status": new_status})
    assert response.status_code == code
