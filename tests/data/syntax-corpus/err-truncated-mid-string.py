"""Tests of the /api/users endpoints."""
from fastapi.testclient import TestClient


def make_user(client: TestClient, email: str = "ada@example.com") -> dict:
    """Create a user through the API and return the response body."""
    response = client.post("/api/users", json={"email": email, "full_name": "Ad