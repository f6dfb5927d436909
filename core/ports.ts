/**
 * The ports providers implement, each versioned by its specificationVersion. Providers (local,
 * aws, azure) implement these and pass the shared conformance suites in tests/conformance/.
 */
export {
  STORAGE_SPECIFICATION_VERSION,
  type ObjectStorage,
  type StoredObject,
  type PutObjectOptions,
  type VersionedObject,
  type WriteCondition,
  type ConditionalWriteResult,
} from './storage/port';
export { REGISTRY_SPECIFICATION_VERSION, type ModelRegistry } from './registry/port';
export {
  TRAINING_SPECIFICATION_VERSION,
  type TrainingBackend,
  type TrainingJob,
  type TrainedModel,
  type DatasetReference,
  type TimeSplit,
} from './training/port';
