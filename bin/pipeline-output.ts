/**
 * How the CLI prints a pipeline run (`pipeline run` and `run`, the main job): progress lines on
 * stderr as stages start and end, and the summary table.
 */
import type { GlobalFlags } from './output';
import type { PipelineProgressEvent, PipelineRunSummary } from '../pipelines/runner';

/** One line per stage (status, name, time, the failed command), then the pipeline's outcome. */
export function describePipelineRun(summary: PipelineRunSummary): string {
  const width = Math.max(...summary.stages.map((stage) => stage.name.length), 5);
  const lines = summary.stages.map((stage) => {
    const detail = stage.status === 'passed' || stage.status === 'failed' ? `${stage.seconds.toFixed(1)} s` : (stage.reason ?? '');
    const failure = stage.failedCommand === undefined ? '' : ` — exit ${stage.exitCode}: ${stage.failedCommand}`;
    return `${stage.status.padEnd(8)} ${stage.name.padEnd(width)}  ${detail}${failure}`;
  });
  return [...lines, `pipeline ${summary.status} in ${summary.seconds.toFixed(1)} s${summary.branch ? ` (branch ${summary.branch})` : ''}`].join('\n');
}

/** Progress lines on stderr: `[i/N] Stage …` as it starts, then its outcome and time. */
export function pipelineProgressPrinter(flags: GlobalFlags): (event: PipelineProgressEvent) => void {
  return (event) => {
    if (flags.quiet) return;
    const position = `[${event.index}/${event.total}]`;
    if (event.kind === 'stage-start') process.stderr.write(`${position} ${event.stage.name}\n`);
    if (event.kind === 'command') process.stderr.write(`${position} $ ${event.command}\n`);
    if (event.kind === 'stage-end') {
      const result = event.result;
      const detail = result.status === 'passed' || result.status === 'failed' ? `in ${result.seconds.toFixed(1)} s` : `— ${result.reason}`;
      process.stderr.write(`${position} ${event.stage.name} ${result.status} ${detail}\n`);
    }
  };
}
