"""Tests of the /api/users endpoints."""
from fastapi.testclient import TestClient


def make_user(client: TestClient, email: str = "ada@example.com") -> dict:
    """Create a user through the API and return the response body."""
    response = client.post("/api/users", json={"email": email, "full_name": "Ada"})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_and_get(client: TestClient) -> None:
    """A created user can be read back."""
    user = make_user(client)
    response = client.get(f"/api/users/{user['id']}")
    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"


def test_duplicate_email(client: TestClient) -> None:
    """The same e-mail address cannot be registered twice."""
    make_user(client)
    response = client.post("/api/users", json={"email": "ada@example.com", "full_name": "Bob"})
    assert response.status_code == 409


def test_missing_user(client):
    response = client.get("/api/users/999")
    assert response.status_code == 404
