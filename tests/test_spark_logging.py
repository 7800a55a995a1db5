"""Spark's own messages go to a log file in the workspace unless the user asks for them."""

from __future__ import annotations

from parcours.engine import spark_log_config


def test_spark_messages_go_to_the_workspace_log_at_the_configured_level(tmp_path):
    path = spark_log_config(tmp_path / "logs", "ERROR", console=False)
    text = path.read_text()
    assert f"appender.file.fileName = {(tmp_path / 'logs' / 'spark.log').resolve()}" in text
    assert "rootLogger.level = ERROR" in text
    assert "rootLogger.appenderRef.file.ref = file" in text
    assert "rootLogger.appenderRef.console.ref" not in text


def test_spark_messages_reach_the_console_only_when_asked(tmp_path):
    text = spark_log_config(tmp_path, "INFO", console=True).read_text()
    assert "rootLogger.appenderRef.console.ref = console" in text
    assert "rootLogger.level = INFO" in text
