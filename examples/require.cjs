// CommonJS: the same library through require(); a model to bytes and back, in memory (browsers too).
const { CharVocab, LanguageModel, loadModel, saveModel } = require("rnnlab");

const vocab = CharVocab.fromText("hello, world\n");
const lm = new LanguageModel({ vocabSize: vocab.size, embedSize: 4, hiddenSize: 8, cell: "lstm", seed: 1 });
const bytes = saveModel(lm, { vocab }); // a Uint8Array: the safetensors file rnnlab's checkpoints are
const saved = loadModel(bytes);
console.log(`${saved.kind}: ${saved.model.store.size} parameters, ${bytes.length} bytes`);
