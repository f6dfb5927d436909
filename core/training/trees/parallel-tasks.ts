/**
 * Runs one task of a parallel job by its kind (the same function on the calling thread and in the
 * workers, so a task computes the same whoever claims it).
 */
import { runBinRowsTask, runFitBinCutsTask } from './binning-tasks';
import { runAddLeafValuesTask, runSoftmaxGradientsTask, runThreeClassRootsTask } from './boosting-tasks';
import { runGrowTreesTask } from './classification-forest';
import { runNodeSearchTask, runPartitionTask } from './node-search';
import { TASK_KINDS, type TaskEnvironment, type TaskKind } from './task-kinds';

export function runTask(kind: TaskKind, task: number, environment: TaskEnvironment): void {
  switch (kind) {
    case TASK_KINDS.nodeSearch:
      runNodeSearchTask(environment, task);
      return;
    case TASK_KINDS.softmaxGradients:
      runSoftmaxGradientsTask(environment, task);
      return;
    case TASK_KINDS.threeClassRoots:
      runThreeClassRootsTask(environment, task);
      return;
    case TASK_KINDS.partitionRows:
      runPartitionTask(environment, task);
      return;
    case TASK_KINDS.addLeafValues:
      runAddLeafValuesTask(environment, task);
      return;
    case TASK_KINDS.fitBinCuts:
      runFitBinCutsTask(environment, task);
      return;
    case TASK_KINDS.binRows:
      runBinRowsTask(environment, task);
      return;
    case TASK_KINDS.growTrees:
      runGrowTreesTask(environment, task);
      return;
    default:
      throw new Error(`unknown training task kind ${String(kind)}`);
  }
}
