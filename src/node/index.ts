// `rnnlab/node`: what only Node can do, for library users. Model files written atomically
// (save/load), rnnlab train's checkpoints, streaming a corpus file into token ids, worker
// threads for data-parallel training (pass `nodeSpawn` as a TrainingRun's or TrainingSession's
// `spawn`), the embedded corpus, and allowRelaxedSimd (the kernels' fused multiply-adds on
// Node 20). Everything platform-neutral is in `rnnlab` itself.

export { save, load } from "./model-files.js";
export { readCheckpoint, writeCheckpoint } from "./checkpoint.js";
export { loadCorpus, DEFAULT_CORPUS, type Corpus, type TokenizeOptions } from "./corpus.js";
export { nodeSpawn } from "./threads.js";
export { writeFileAtomic, readBytes, InputError } from "./files.js";
export { allowRelaxedSimd } from "./relaxed-simd.js";
