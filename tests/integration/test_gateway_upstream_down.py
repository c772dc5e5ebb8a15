"""An upstream that does not answer gives 503 in the error shape, never a stack trace."""
from devstack.net import free_port
from linli.config import reset_settings


def test_a_service_that_is_down_gives_a_readable_503(mongo_env, monkeypatch):
    monkeypatch.setenv("LINLI_CATALOG_URL", f"http://127.0.0.1:{free_port()}")
    reset_settings()
    from gateway.app import create_app

    response = create_app().test_client().get("/api/v1/catalog/listings", headers={"X-Request-ID": "rid-1"})
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "unavailable" and "catalog" in error["message"] and error["details"] == {"service": "catalog"}
    assert response.headers["X-Request-ID"] == "rid-1"
