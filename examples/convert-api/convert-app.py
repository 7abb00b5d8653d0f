"""Celsius -> Fahrenheit in the service-function batch format: {"data": [[row, celsius], ...]}."""

from flask import Flask, jsonify, request

app = Flask(__name__)


def celsius_to_fahrenheit(celsius: float) -> float:
    return round(celsius * 9.0 / 5.0 + 32, 10)


@app.get("/healthcheck")
def healthcheck():
    return "ok"


@app.post("/convert")
def convert():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return jsonify({"error": "expected a JSON object with a 'data' list"}), 400
    rows = []
    for item in body["data"]:
        if not isinstance(item, list) or len(item) < 2:
            return jsonify({"error": f"each row must be [row_index, celsius], got {item!r}"}), 400
        row, celsius = item[0], item[1]
        rows.append([row, None if celsius is None else celsius_to_fahrenheit(float(celsius))])
    return jsonify({"data": rows})
