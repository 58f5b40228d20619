"""Health, the global headers, CORS, and the error bodies of unknown routes."""

from __future__ import annotations

import pytest


def test_health_answers_like_pocketbase(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.content == b'{"message":"API is healthy.","code":200,"data":{}}'
    assert response.headers["content-type"] == "application/json"


def test_every_response_carries_the_security_headers(client):
    response = client.get("/api/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-xss-protection"] == "1; mode=block"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in response.headers


def test_a_request_with_an_origin_gets_cors_allow_all(client):
    response = client.get("/api/health", headers={"Origin": "http://app.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_preflight_answers_204_with_the_allowed_methods(client):
    response = client.options(
        "/api/health",
        headers={
            "Origin": "http://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-methods"] == "GET,HEAD,PUT,PATCH,POST,DELETE"
    assert response.headers["access-control-allow-headers"] == "authorization,content-type"


def test_unknown_get_route_is_file_not_found(client):
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.json() == {"data": {}, "message": "File not found.", "status": 404}


def test_unknown_post_route_is_resource_not_found(client):
    response = client.post("/api/nope")
    assert response.status_code == 404
    assert response.json() == {"data": {}, "message": "The requested resource wasn't found.", "status": 404}


def test_wrong_method_on_a_known_route_is_resource_not_found(client):
    response = client.put("/api/health")
    assert response.status_code == 404
    assert response.json()["message"] == "The requested resource wasn't found."


def test_a_get_on_a_post_only_route_falls_through_to_file_not_found(client):
    response = client.get("/api/files/token")
    assert response.json() == {"data": {}, "message": "File not found.", "status": 404}


@pytest.mark.parametrize(("query", "status", "page"), [
    ("page=100000000000000000000", 400, None), ("perPage=99999999999999999999", 400, None), ("page=abc", 400, None),
    ("page=9223372036854775807", 200, 9223372036854775807), ("page=-5", 200, 1),
])
def test_paging_numbers_beyond_64_bits_are_a_400_and_far_pages_are_empty(client, admin, query, status, page):
    response = client.get(f"/api/collections/users/records?{query}", headers=admin)
    assert response.status_code == status, response.text
    if page is not None:
        assert response.json()["page"] == page and response.json()["items"] == []
