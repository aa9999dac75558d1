"""hoidap.metrics: the Prometheus text format (the server's /metrics is tried in tests/test_server.py)."""

from __future__ import annotations

import re

from hoidap.metrics import BUCKETS, Metrics

SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="(?:[^"\\]|\\.)*",?)*\})? -?[0-9.e+-]+$')


def test_render_is_prometheus_text_with_cumulative_buckets() -> None:
    m = Metrics()
    m.observe("/api/ask", "POST", 200, 0.004)
    m.observe("/api/ask", "POST", 200, 0.3)
    m.observe("/api/ask", "POST", 503, 20.0)
    m.observe('/odd"path\n', "GET", 404, 0.01)
    m.answered(3, 1)
    m.job_finished("done")
    text = m.render({"hoidap_documents": ("Documents in the index.", 7)})
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(SAMPLE.match(line) for line in samples), [s for s in samples if not SAMPLE.match(s)]
    values = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in samples}
    assert values['hoidap_http_requests_total{endpoint="/api/ask",method="POST",status="200"}'] == 2
    assert values['hoidap_http_request_seconds_bucket{endpoint="/api/ask",le="0.005"}'] == 1
    assert values['hoidap_http_request_seconds_bucket{endpoint="/api/ask",le="0.5"}'] == 2
    assert values['hoidap_http_request_seconds_bucket{endpoint="/api/ask",le="+Inf"}'] == 3
    assert values['hoidap_http_request_seconds_count{endpoint="/api/ask"}'] == 3
    assert abs(values['hoidap_http_request_seconds_sum{endpoint="/api/ask"}'] - 20.304) < 1e-6
    assert values['hoidap_questions_total{outcome="answered"}'] == 3
    assert values['hoidap_questions_total{outcome="abstained"}'] == 1
    assert values['hoidap_ingest_jobs_total{state="done"}'] == 1
    assert values["hoidap_documents"] == 7
    assert 'endpoint="/odd\\"path\\n"' in text  # label values escaped
    assert "# TYPE hoidap_http_request_seconds histogram" in text and len(BUCKETS) == 11
