#!/usr/bin/env cwl-runner
# A two-step workflow: reload a Qlik Sense task (qlik-reload.cwl), then a step
# that reads its outcome. The reload's classification (temporary / permanent
# failure) becomes the workflow's.
#
#   cwltool examples/cwl/reload-then-report.cwl examples/cwl/job.yml
cwlVersion: v1.2
class: Workflow
label: Reload, then report

inputs:
  task_name: string
  worker: string?
  timeout: string?

outputs:
  outcome:
    type: File
    outputSource: reload/outcome
  summary:
    type: File
    outputSource: report/report

steps:
  reload:
    run: qlik-reload.cwl
    in:
      task_name: task_name
      worker: worker
      timeout: timeout
    out: [outcome, log]
  report:
    run:
      class: CommandLineTool
      baseCommand: [grep, -o, '"state":"[A-Z_]*"']
      inputs:
        outcome: {type: File, inputBinding: {position: 1}}
      stdout: report.txt
      outputs:
        report: {type: stdout}
    in:
      outcome: reload/outcome
    out: [report]
