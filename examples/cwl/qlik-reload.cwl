#!/usr/bin/env cwl-runner
# A CWL step that runs a Qlik Sense reload task through qlik-reload-worker and
# waits for Qlik's outcome. The exit code of `qlik-reload run` is classified
# for the runner: 75 (worker or Qlik temporarily unreachable) and 124 (our
# --timeout passed; the reload was stopped) are temporary failures worth retrying; 1 (the reload failed), 3 (not started),
# 64/77/78 (bad request, access denied, configuration) are permanent.
#
#   cwltool examples/cwl/qlik-reload.cwl --task_name "Reload Sales" --worker qlik-reload-worker:9090
#
# The worker address is an input (cwltool does not pass the environment to a
# step; to use $QLIK_RELOAD_WORKER instead, run cwltool with
# --preserve-environment QLIK_RELOAD_WORKER and leave `worker` out).
cwlVersion: v1.2
class: CommandLineTool
label: Qlik Sense reload
doc: Start a Qlik Sense reload task, follow it to the end, report the outcome as JSON.

baseCommand: [qlik-reload, run, --json]

inputs:
  task_name:
    type: string?
    doc: The Qlik task's name (give this or task_id).
    inputBinding: {prefix: --task-name}
  task_id:
    type: string?
    doc: The Qlik task's GUID.
    inputBinding: {prefix: --task-id}
  worker:
    type: string?
    doc: HOST:PORT of qlik-reload-worker.
    inputBinding: {prefix: --worker}
  site:
    type: string?
    doc: The site in the worker's configuration (default "default").
    inputBinding: {prefix: --site}
  timeout:
    type: string?
    doc: Wait limit (90s, 15m, 2h); the reload is stopped when it passes.
    inputBinding: {prefix: --timeout}
  idempotency_key:
    type: string?
    doc: The same key re-attaches to the reload already started under it (use the workflow run's id).
    inputBinding: {prefix: --idempotency-key}

stdout: qlik-reload.json
stderr: qlik-reload.log

outputs:
  outcome:
    type: File
    doc: The CLI's JSON object (execution_id, state, qlik_status, message, script_log_tail, ...).
    outputBinding: {glob: qlik-reload.json}
  log:
    type: File
    doc: Progress, and on failure Qlik's message and the script log's tail.
    outputBinding: {glob: qlik-reload.log}

successCodes: [0]
temporaryFailCodes: [75, 124]
permanentFailCodes: [1, 3, 64, 70, 77, 78, 130, 143]
