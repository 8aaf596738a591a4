// rnnlab's public API: everything the CLI, the web lab and users import comes from here.

// errors (the CLI prints these as one line and exits with status 2)
export { InputError, CheckpointError, ResourceError, FLOAT32_MAX, finiteInFloat32 } from "./errors.js";

// tensor
export { alloc, fromArray, dtypeOf, type DType, type Float, type Ids } from "./tensor/dtype.js";
export { tensor, zeros, numel, checkShape, type Tensor } from "./tensor/tensor.js";
export { Rng } from "./tensor/rng.js";
export type { Kernels, PackedGemm } from "./tensor/kernels.js";
export { jsKernels, jsTiledKernels } from "./tensor/js-kernels.js";
export { defaultKernels, useKernels, wasmKernels, type KernelChoice } from "./tensor/select.js";
export type { WasmBuild, WasmKernels } from "./tensor/wasm/wasm-kernels.js";
export { Arena } from "./tensor/wasm/arena.js";

// nn
export { ParamStore, Parameter, uniformInit, normalInit, zerosInit, type Initializer, type ParamStoreOptions } from "./nn/params.js";
export type { ModuleOptions } from "./nn/module.js";
export { checkOptions, MODULE_OPTION_KEYS } from "./nn/module.js";
export { Linear, linearForward, linearBackward, type LinearOptions } from "./nn/linear.js";
export { Embedding, embeddingForward, embeddingBackward, type EmbeddingOptions } from "./nn/embedding.js";
export { activationForward, activationBackward, ACTIVATION_GAMMA, type Activation } from "./nn/activations.js";
export { crossEntropyForward, crossEntropyBackward, IGNORE_INDEX } from "./nn/softmax-xent.js";
export { CELLS, CELL_NAMES, cellOfMode, modeOf, isCellName, type CellName, type CellSpec } from "./nn/cells.js";
export {
  Recurrent,
  RNN,
  LSTM,
  GRU,
  RecurrentCache,
  createRecurrent,
  type RecurrentMode,
  type RecurrentOptions,
  type RNNOptions,
  type RecurrentParams,
  type RecurrentInit,
  type RecurrentLayout,
  type DirectionBuffers,
  type LayerBuffers,
  RECURRENT_OPTION_KEYS,
} from "./nn/recurrent.js";
export {
  RNNCellBase,
  RNNCell,
  LSTMCell,
  GRUCell,
  CellCache,
  type RNNCellOptions,
  type RNNCellBaseOptions,
  type CellGrads,
} from "./nn/rnn-cells.js";
export {
  packPaddedSequence,
  padPackedSequence,
  padSequence,
  packSequence,
  isPackedSequence,
  type PackedSequence,
  type PackOptions,
  type PadPackedOptions,
  type PadSequenceOptions,
} from "./nn/pack.js";
export { MLP, type MLPOptions } from "./nn/mlp.js";
export { generate, sampleLogits, type GenerateOptions, type SampleOptions, type Predictor, type PredictPlan } from "./nn/generate.js";
export {
  SequenceClassifier,
  SEQUENCE_CLASSIFIER_OPTION_KEYS,
  type SequenceClassifierOptions,
  type SequenceClassifierConfig,
  type ClassifierInput,
  type ClassifierBatch,
} from "./nn/sequence-classifier.js";
export { WHOLE_SEQUENCE_TRAINER_OPTION_KEYS, type WholeSequenceModel, type WholeSequenceTrainerOptions } from "./train/trainer.js";
export {
  padBatch,
  BucketBatcher,
  shuffled,
  type PadBatchOptions,
  type PaddedBatch,
  type BucketBatcherOptions,
  type LabelledBatch,
} from "./data/sequence-batches.js";
export {
  parseJsonl,
  examplesFromRecords,
  labelsOf,
  splitExamples,
  textVocab,
  textTokenizer,
  UNKNOWN_CHAR,
  prepareText,
  type TextExample,
  type SplitOptions,
  type TextPreparation,
} from "./data/classify-data.js";
export { speechesOf, speakerDataset, type Speech, type SpeakerDatasetOptions } from "./data/speakers.js";
export { LanguageModel, dropoutMask, type LanguageModelOptions } from "./nn/language-model.js";
export { FeedForwardLM, FEEDFORWARD_LM_OPTION_KEYS, MAX_WINDOW, type FeedForwardLMOptions } from "./nn/feedforward-lm.js";
export { LM_CELLS, isLMCell, isRecurrentLM, buildLanguageModel, stateTensors, type LMCell, type AnyLanguageModel } from "./nn/lm.js";

// train
export {
  clipGradNorm,
  clipGradValue,
  gradNorm,
  isClipped,
  clipSummary,
  ExplosionWatch,
  type Grads,
  type NormType,
  type ClipGradNormOptions,
} from "./train/clip.js";
export {
  SGD,
  Adagrad,
  RMSprop,
  Adam,
  AdamW,
  createOptimizer,
  OPTIMIZERS,
  OPTIMIZER_NAMES,
  isOptimizerName,
  NON_NEGATIVE_STATE,
  type Optimizer,
  type OptimizerName,
  type OptimizerSpec,
  type SGDOptions,
  type AdagradOptions,
  type RMSpropOptions,
  type AdamOptions,
  type AnyOptimizerOptions,
} from "./train/optim.js";
export { TruncatedBPTT, type SequenceModel, type StepArray, type TBPTTOptions } from "./train/tbptt.js";
export {
  TrainingSession,
  sessionConfig,
  splitText,
  textFits,
  type TextFitProblem,
  DEFAULT_MODEL,
  DEFAULT_TRAIN,
  DEFAULT_STEPS,
  type SessionData,
  type SessionSettings,
  type SessionHooks,
  type StepRecord,
  type EvalEvent,
  type CheckpointEvent,
  type StopReason,
} from "./train/session.js";
export { LrSchedule, normalizeSchedule, type ScheduleSpec, type PlateauState } from "./train/schedule.js";
export { Trainer, Updater, NonFiniteError, type TrainerOptions, type UpdateOptions, type StepReport, type NonFinitePolicy } from "./train/trainer.js";
export { evaluateLoss, type EvaluateOptions, type EvalModel } from "./train/evaluate.js";
export {
  TrainingRun,
  checkAdjustment,
  type TrainingAdjustment,
  modelFromSnapshot,
  defaultPrime,
  checkSnapshotFinite,
  snapshotOf,
  vocabFromMetadata,
  SNAPSHOT_FORMAT,
  MODEL_KINDS,
  type ModelKind,
  type SnapshotInput,
  type RunConfig,
  type ModelConfig,
  type TrainConfig,
  type Snapshot,
  type RunOptions,
} from "./train/run.js";
export {
  saveModel,
  loadModel,
  modelSnapshot,
  type SavableModel,
  type SaveModelOptions,
  type LoadModelOptions,
  type LoadedModel,
  type SavedRecurrentConfig,
} from "./train/model-file.js";
export { parseRunConfig, parseModelConfig, parseTrainConfig, parseRunInfo, firstNonFinite, type RunInfo } from "./train/schema.js";
export {
  trainingBytes,
  inferenceBytes,
  taskBytes,
  checkTrainingFits,
  checkInferenceFits,
  checkTaskFits,
  checkThreads,
  languageModelParams,
  MEMORY_LIMIT,
  MAX_THREADS,
  type TaskShape,
} from "./train/memory.js";
export { DataParallelLM, runShardWorker, type Spawn, type ShardInit, type ShardLayout, type SharedMemoryKernels } from "./train/parallel.js";
export { OmegaRegularizer } from "./train/omega.js";
export { TaskRun, TaskModel, WindowTaskModel, type TaskRunConfig, type TaskStepReport } from "./train/task-run.js";

// analysis
export { gradCheck, type GradCheckTarget, type GradCheckOptions, type GradCheckResult } from "./analysis/gradcheck.js";
export * from "./analysis/single-neuron.js";
export * from "./analysis/loss-slice.js";
export { eigenvalues, singularValues, spectralRadius, randomOrthogonal, type Eigenvalues } from "./tensor/linalg.js";
export { recurrentSpectra, type RecurrentSpectrum } from "./analysis/spectra.js";
export { chainNorm, linearStep, stepJacobians, jacobianNorms, type StepJacobian, type ChainNormOptions } from "./analysis/jacobian.js";
export { diagnose, defaultLags, float64Copy, flowByLag, type DiagnoseOptions, type FlowModel } from "./analysis/gradflow.js";
export type { DiagnosticsRecord, LayerFlow, SpectrumSummary, ClipSummary, StepMetrics } from "./analysis/report-data.js";

// plots (vega-lite specs: data in, spec out; rendering to SVG/PNG is the CLI's, in Node)
export * from "./plot/specs.js";
export { experimentSpec, type ExperimentRow } from "./plot/experiment-spec.js";

// data
export { CharVocab, type Vocab } from "./data/vocab.js";
export {
  WordVocab,
  WordCounter,
  WordEncoder,
  WordSplitter,
  UNK,
  EOS,
  UnknownWordError,
  vocabMetadata,
  wordVocabMetadata,
  wordVocabOptionsOf,
  PYTHON_WHITESPACE,
  isPythonSpace,
  type WordVocabOptions,
} from "./data/words.js";
export { encodeText, allocTokens, VocabCollector, TokenEncoder, type TokenArray } from "./data/corpus.js";
export * from "./data/tasks.js";

// io (the platform-neutral part: formats, no files)
export { encodeSafetensors, decodeSafetensors, SafetensorsError, type SafetensorsTensor, type SafetensorsDType, type TensorToWrite } from "./io/safetensors.js";
export * from "./io/statedict.js";
export { exportOnnx, exportRecurrentOnnx, decodeOnnx, ONNX_DEFAULT_OPSET, ONNX_OPSET_RANGE, type OnnxExportOptions } from "./io/onnx.js";
export { StreamBatcher, probeBatch, type StreamBatch } from "./data/batches.js";

// analysis: probes (how far back a language model looks; which earlier tokens a prediction rests on)
export {
  probeContext,
  logDistances,
  effectiveContext,
  samplePositions,
  tokenClasses,
  rowLoss,
  BatchRunner,
  PERTURBATIONS,
  PERTURBATION_MEANINGS,
  type ContextModel,
  type Perturbation,
  type TokenClasses,
  type ContextProbeOptions,
  type ContextProbeResult,
  type ContextCurve,
  type ClassCurve,
} from "./analysis/context.js";
export { saliency, type SaliencyModel, type SaliencyOptions, type SaliencyResult } from "./analysis/saliency.js";
export { contextProbeSpec } from "./plot/probe-spec.js";

// experiment: context ("Jane said hi to __": how far back a language model carries a name)
export {
  ContextStories,
  fillerWords,
  STORY_NAMES,
  FILLER_CHARACTERS,
  type Story,
  type StoryTest,
  type ContextStoriesOptions,
  type FillerKind,
  FILLER_KINDS,
} from "./data/context-stories.js";
export {
  CONTEXT_MODELS,
  storyChance,
  encodeStoryTests,
  scoreStories,
  sizeForParams,
  summarizeContext,
  contextTable,
  type StoryPredictor,
  type StoryCases,
  type StoryScore,
  type ContextModelRow,
  type ContextRun,
  type ContextSummaryRow,
} from "./analysis/context-experiment.js";
export { contextExperimentSpec } from "./plot/context-spec.js";
