"""Events through apprise to a real SMTP server and a real webhook on 127.0.0.1; URL secrets never shown or kept."""
from __future__ import annotations

import json
import os

from tests.conftest import ROOT
from tests.notify_servers import HttpEndpoint, SmtpServer, wait_until

NOW = "--now=2026-11-24T10:00:00Z"
SECRET = "s3cr3t-Token-42"


def test_a_failure_reaches_the_mail_server_and_the_webhook_with_its_fields(project):
    with SmtpServer() as smtp, HttpEndpoint() as hook:
        project.workflow(f"""
            %notify json://ops:{SECRET}@127.0.0.1:{hook.port}/alerts on:failure,recovery

            out/$[DATE].txt <-
              echo "source down" >&2
              exit 3
        """)
        mail = f"mailto://127.0.0.1:{smtp.port}?from=datamake@example.com&to=ops@example.com"
        r = project.run("--date", "2026-11-23", NOW, "--notify", mail, "--notify-on", "interval_failed")
        assert r.returncode == 1
        wait_until(lambda: smtp.messages and hook.requests)
    (message,) = smtp.messages
    assert message["Subject"] == f"[datamake] {project.path.name} 2026-11-23: interval failed"
    text = message.get_body(("plain",)).get_content()
    for line in ("event: interval_failed", f"workflow: {project.path.name} ({project.path / 'Drakefile'})",
                 "interval: 2026-11-23", "step: out/2026-11-23.txt", "attempt: 1",
                 "error: out/2026-11-23.txt: exit 3", "source down"):
        assert line in text
    (path, headers, body), = hook.requests
    payload = json.loads(body)
    assert path == "/alerts" and payload["type"] == "failure"
    assert payload["title"] == message["Subject"] and "log: " in payload["message"]
    assert "Authorization" in headers  # the secret went where it belongs, and nowhere else:
    kept = [r.stdout, r.stderr, *(p.read_bytes().decode("latin-1") for p in (project.path / ".datamake").rglob("*")
                                  if p.is_file())]
    assert not any(SECRET in text for text in kept)


def test_only_the_events_a_notifier_asks_for_are_sent(project):
    with HttpEndpoint() as hook:
        project.workflow("""
            out.txt <-
              echo ok > $OUTPUT
        """)
        r = project.run("--notify", f"json://127.0.0.1:{hook.port}/x")  # default: failures, SLA misses, recoveries
        assert r.returncode == 0
        r = project.run("+out.txt", "--notify", f"json://127.0.0.1:{hook.port}/x", "--notify-on", "success")
        assert r.returncode == 0
        wait_until(lambda: hook.requests)
    assert [json.loads(b)["title"] for _p, _h, b in hook.requests] == [
        f"[datamake] {project.path.name}: out.txt step succeeded"]


def test_an_undeliverable_notification_warns_without_the_url(project):
    project.workflow("""
        out.txt <-
          exit 1
    """)
    r = project.run("--notify", f"json://user:{SECRET}@127.0.0.1:9/x")  # nothing listens on port 9
    assert r.returncode == 1
    assert "datamake: warning: notifier 1 (json) could not deliver step_failed" in r.stderr
    assert SECRET not in r.stderr + r.stdout


def test_a_notifier_url_apprise_cannot_read_is_an_error_before_anything_runs(project):
    project.workflow("""
        out.txt <-
          echo ran > $OUTPUT
    """)
    r = project.run("--notify", f"nosuchservice://{SECRET}@x")
    assert r.returncode == 2 and not project.exists("out.txt")
    assert r.stderr.startswith("datamake: error: notifier 1 (nosuchservice): apprise does not understand this URL")
    assert SECRET not in r.stderr


def test_without_apprise_notifiers_say_how_to_get_it(project, tmp_path):
    blocker = tmp_path / "no-apprise"
    blocker.mkdir()
    (blocker / "apprise.py").write_text("raise ImportError('not installed')\n")
    project.workflow("""
        %notify json://127.0.0.1:9/x
        out.txt <-
          echo ran > $OUTPUT
    """)
    r = project.run(env={"PYTHONPATH": f"{blocker}{os.pathsep}{ROOT}"})
    assert r.returncode == 2
    assert "datamake: error: notifiers need apprise, which is not installed" in r.stderr
    assert "pip install 'datamake[notify]'" in r.stderr
