"""Controller-side driver of the playbooks through ansible-runner.

``invocation`` turns a CLI request into ansible-runner arguments (fresh private data dir per run,
no env files, host key checking on); ``events`` records every event as JSON lines and keeps
per-host state; ``render`` prints progress for people; ``plan`` summarises a check/diff run;
``status`` extracts training and deployment status from a status run.
"""
