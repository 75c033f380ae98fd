def test_a_control_character_in_a_social_map_filter_is_a_clear_error(operator_client) -> None:
    response = operator_client.get("/api/v1/toolkit/social-map", {"domain": "#\x00", "q": "x"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_character"
